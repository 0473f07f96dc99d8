/** Small helpers for tests that drive the server with mysql2. */

/** The MySQL error a promise rejects with (errno, sqlState, message); fails when it resolves. */
export const errorOf = async (p: Promise<unknown>): Promise<{ errno: number | undefined; sqlState: string | undefined; message: string }> => {
  try {
    await p
  } catch (e) {
    const err = e as { errno?: number; sqlState?: string; message: string }
    return { errno: err.errno, sqlState: err.sqlState, message: err.message }
  }
  throw new Error("expected an error")
}
