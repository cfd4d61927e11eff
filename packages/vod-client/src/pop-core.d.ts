declare module '@alicloud/pop-core' {
  interface RPCClientConfig {
    accessKeyId: string;
    accessKeySecret: string;
    securityToken?: string;
    endpoint: string;
    apiVersion: string;
    opts?: Record<string, unknown>;
  }
  interface RequestOptions {
    method?: 'GET' | 'POST';
    timeout?: number;
    formatParams?: boolean;
    agent?: unknown;
  }
  class RPCClient {
    constructor(config: RPCClientConfig);
    request<T = Record<string, unknown>>(action: string, params?: Record<string, unknown>, opts?: RequestOptions): Promise<T>;
  }
  export default RPCClient;
}
