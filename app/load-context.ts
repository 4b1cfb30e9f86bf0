/** What server.ts passes to every loader and action besides the Request. */
declare module "@remix-run/node" {
  interface AppLoadContext {
    cspNonce: string;
    requestId: string;
    /** The client address, taken through the configured TRUST_PROXY only. */
    clientIp: string;
  }
}

export {};
