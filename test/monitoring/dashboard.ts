/** Reading the Grafana dashboard JSON: its panels and the PromQL of every target. */

export interface DashboardQuery {
  /** "Row / Panel title / refId" */
  where: string;
  row: string;
  panel: string;
  refId: string;
  /** As written in the dashboard (with Grafana variables). */
  raw: string;
  /** With Grafana's variables replaced, ready for /api/v1/query. */
  expr: string;
  datasourceUid: string | undefined;
}

interface Panel {
  type?: string;
  title?: string;
  id?: number;
  datasource?: { type?: string; uid?: string };
  targets?: Array<{ expr?: string; refId?: string; datasource?: { type?: string; uid?: string } }>;
  panels?: Panel[];
}

/** What Grafana would put in place of its built-in variables, for a 15 s scrape interval. */
export const GRAFANA_VARIABLES: Record<string, string> = {
  __rate_interval: '1m',
  __interval: '15s',
  __range: '5m',
};

export function substituteGrafanaVariables(raw: string): string {
  return raw.replace(/\$\{?(__[a-z_]+)\}?/g, (whole, name: string) => GRAFANA_VARIABLES[name] ?? whole);
}

/** Every panel in order, rows' nested panels included. */
export function allPanels(dashboard: { panels?: Panel[] }): Panel[] {
  const out: Panel[] = [];
  for (const panel of dashboard.panels ?? []) {
    out.push(panel);
    for (const inner of panel.panels ?? []) out.push(inner);
  }
  return out;
}

export function dashboardQueries(dashboard: { panels?: Panel[] }): DashboardQuery[] {
  const out: DashboardQuery[] = [];
  let row = '(no row)';
  for (const panel of allPanels(dashboard)) {
    if (panel.type === 'row') {
      row = panel.title ?? '(untitled row)';
      continue;
    }
    for (const target of panel.targets ?? []) {
      if (target.expr === undefined) continue;
      const refId = target.refId ?? '?';
      out.push({
        where: `${row} / ${panel.title ?? '(untitled)'} / ${refId}`,
        row,
        panel: panel.title ?? '(untitled)',
        refId,
        raw: target.expr,
        expr: substituteGrafanaVariables(target.expr),
        datasourceUid: target.datasource?.uid ?? panel.datasource?.uid,
      });
    }
  }
  return out;
}

/** Metric names a PromQL expression reads (the prefixes this project's metrics and Node's defaults use). */
export function metricNamesIn(expr: string): string[] {
  const names =
    expr.match(/\b(?:refreshq_[a-z0-9_]+|process_[a-z0-9_]+|nodejs_[a-z0-9_]+|up)\b(?=\s*[{[)\s,]|$)/g) ?? [];
  return [...new Set(names)];
}

/**
 * The vector selectors of an expression, matchers included (`name{a="b"}`), without range or
 * offset, matchers normalised: each can be evaluated on its own to see whether it matches anything.
 */
export function selectorsIn(expr: string): string[] {
  const found = expr.matchAll(
    /\b(refreshq_[a-z0-9_]+|process_[a-z0-9_]+|nodejs_[a-z0-9_]+|up)\b(\s*\{[^}]*\})?(?=\s*[[)\s,]|\s*$|\s*[<>=!+*/-])/g,
  );
  // Normalised as Prometheus prints them (its /api/v1/rules shows `{a="1",b="2"}`).
  const normalise = (matchers: string): string => matchers.trim().replace(/\s*([{},]|[=!]~|!=|=)\s*/g, '$1');
  return [...new Set([...found].map((match) => `${match[1]}${normalise(match[2] ?? '')}`))];
}
