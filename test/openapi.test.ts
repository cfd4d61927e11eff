import { Validator } from '@seriousme/openapi-schema-validator';
import { describedRoutes } from '@refreshq/intake';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type TestIntake, cleanNamespace, startTestIntake } from './support/stack.js';

let intake: TestIntake;
let document: any;

beforeAll(async () => {
  intake = await startTestIntake({ INTAKE_TOKENS: 'intake-token-0123456789' });
  const response = await fetch(`${intake.url}/openapi.json`);
  expect(response.status).toBe(200);
  document = await response.json();
});

afterAll(async () => {
  await intake.close();
  await cleanNamespace(intake.namespace);
});

interface Layer {
  route?: { path: string | string[]; methods: Record<string, boolean> };
  handle?: { stack?: Layer[] };
}

/** Every `METHOD /path` the running app routes, found in its router (and the routers mounted in it). */
function appRoutes(app: TestIntake['app']): string[] {
  const root = (app as unknown as { router: { stack: Layer[] } }).router;
  const found: string[] = [];
  const walk = (stack: Layer[]) => {
    for (const layer of stack) {
      if (layer.route) {
        const paths = Array.isArray(layer.route.path) ? layer.route.path : [layer.route.path];
        for (const method of Object.keys(layer.route.methods)) {
          if (method === '_all') continue;
          for (const path of paths) found.push(`${method.toUpperCase()} ${path}`);
        }
      } else if (layer.handle?.stack) {
        walk(layer.handle.stack);
      }
    }
  };
  walk(root.stack);
  return [...new Set(found)];
}

/** The document's operations as `METHOD /path`, with express's `:param` for `{param}`. */
function documentedRoutes(doc: any): string[] {
  return Object.entries(doc.paths as Record<string, Record<string, unknown>>).flatMap(([path, item]) =>
    Object.keys(item)
      .filter((key) => ['get', 'put', 'post', 'delete', 'patch', 'head', 'options'].includes(key))
      .map((method) => `${method.toUpperCase()} ${path.replace(/\{(\w+)\}/g, ':$1')}`),
  );
}

describe('GET /openapi.json', () => {
  it('is a valid OpenAPI 3.1 document', async () => {
    expect(document.openapi).toBe('3.1.0');
    const result = await new Validator().validate(document);
    expect(result.errors ?? []).toEqual([]);
    expect(result.valid).toBe(true);
  });

  it('describes every route of the app, and no route the app lacks', () => {
    const routes = appRoutes(intake.app);
    // The walk must see the app's real routes, or the comparison below proves nothing.
    expect(routes).toEqual(
      expect.arrayContaining(['POST /v1/refreshes', 'GET /v1/refreshes/:id', 'DELETE /v1/refreshes/:id']),
    );
    const documented = documentedRoutes(document);
    for (const route of routes)
      expect(documented, `${route} is missing from the OpenAPI document`).toContain(route);
    for (const route of documented) expect(routes, `${route} is documented but not routed`).toContain(route);
    expect(describedRoutes().sort()).toEqual([...documented].sort());
  });

  it('takes the request body from the schema that checks it', () => {
    const body = document.paths['/v1/refreshes'].post.requestBody.content['application/json'].schema;
    expect(body).toEqual({ $ref: '#/components/schemas/RefreshBody' });
    const schema = document.components.schemas.RefreshBody;
    expect(schema.additionalProperties).toBe(false);
    expect(schema.properties.objectType.enum).toEqual(['File', 'Directory']);
    expect(schema.properties.priority.enum).toEqual(['high', 'normal', 'low']);
    expect(schema.properties.action.enum).toEqual(['refresh', 'preload']);
    expect(Object.keys(schema.properties).sort()).toEqual(
      [
        'callbackUrl',
        'objectPath',
        'objectType',
        'paths',
        'priority',
        // The kinds of work (#16).
        'action',
        'force',
        'then',
        'mediaIds',
        'formats',
        'definitions',
        'streamType',
        'resultType',
        'sliceFlag',
        'sliceCount',
        'userData',
      ].sort(),
    );
    const list = document.paths['/v1/refreshes'].get.parameters.map((parameter: any) => parameter.name);
    expect(list.sort()).toEqual(['cursor', 'limit', 'since', 'state']);
    expect(document.components.securitySchemes.bearer).toMatchObject({ type: 'http', scheme: 'bearer' });
  });

  it('needs no token, like /metrics', async () => {
    expect((await fetch(`${intake.url}/v1/quota`)).status).toBe(401);
    expect((await fetch(`${intake.url}/openapi.json`)).status).toBe(200);
  });
});
