import { createContext, useContext } from "react";

/** The per-request CSP nonce; on the client it is empty (browsers hide nonce attributes). */
export const NonceContext = createContext<string>("");

export function useNonce(): string {
  return useContext(NonceContext);
}
