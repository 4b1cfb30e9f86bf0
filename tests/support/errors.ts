/**
 * What a call throws, for assertions on the error itself (its class and fields). Each fails the
 * test when nothing is thrown, so an assertion on the result can never pass by accident.
 */

export function thrown(fn: () => unknown): Error {
  try {
    fn();
  } catch (error) {
    return error as Error;
  }
  throw new Error("expected an error");
}

export async function rejected(promise: Promise<unknown>): Promise<Error> {
  try {
    await promise;
  } catch (error) {
    return error as Error;
  }
  throw new Error("expected a rejection");
}
