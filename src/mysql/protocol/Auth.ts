/**
 * Password checks for mysql_native_password and the caching_sha2_password fast path.
 * Pure: node:crypto hashing only; the caller supplies the scramble (nonce) bytes, which are the
 * 20 bytes sent in the handshake / AuthSwitchRequest without any trailing NUL.
 */
import { createHash, timingSafeEqual } from "node:crypto"

export const NATIVE_PASSWORD_PLUGIN = "mysql_native_password"
export const CACHING_SHA2_PLUGIN = "caching_sha2_password"

/** caching_sha2_password: client → server byte asking for the RSA public key (unsupported). */
export const CACHING_SHA2_REQUEST_PUBLIC_KEY = 0x02
/** caching_sha2_password: AuthMoreData byte for "fast authentication succeeded". */
export const CACHING_SHA2_FAST_AUTH_SUCCESS = 0x03
/** caching_sha2_password: AuthMoreData byte for "perform full authentication". */
export const CACHING_SHA2_PERFORM_FULL_AUTH = 0x04

const hasher =
  (algorithm: "sha1" | "sha256") =>
  (...parts: ReadonlyArray<Uint8Array | string>): Buffer => {
    const h = createHash(algorithm)
    for (const p of parts) h.update(p)
    return h.digest()
  }

const sha1 = hasher("sha1")
const sha256 = hasher("sha256")

const xor = (a: Buffer, b: Buffer): Buffer => {
  const out = Buffer.allocUnsafe(a.length)
  for (let i = 0; i < a.length; i++) out[i] = a[i]! ^ b[i]!
  return out
}

/** The stored form of a mysql_native_password password: SHA1(SHA1(password)). */
export const nativePasswordHash = (password: string): Buffer => sha1(sha1(password))

/** Client side: SHA1(password) XOR SHA1(scramble || SHA1(SHA1(password))); empty for "". */
export const scrambleNativePassword = (password: string, scramble: Buffer): Buffer => {
  if (password.length === 0) return Buffer.alloc(0)
  const stage1 = sha1(password)
  return xor(stage1, sha1(scramble, sha1(stage1)))
}

/**
 * Both plugins send `stage1 XOR mask`, where stage1 = H(password), the stored hash is H(stage1)
 * and the mask is derivable from the stored hash and the scramble. Recover stage1 and compare
 * H(stage1) with the stored hash in constant time. An undefined stored hash is an empty password,
 * which matches exactly an empty response.
 */
const verifyProof = (
  digest: (...parts: ReadonlyArray<Uint8Array>) => Buffer,
  size: number,
  clientResponse: Buffer,
  storedHash: Buffer | undefined,
  mask: (stored: Buffer) => Buffer
): boolean => {
  if (storedHash === undefined) return clientResponse.length === 0
  if (clientResponse.length !== size || storedHash.length !== size) return false
  return timingSafeEqual(digest(xor(clientResponse, mask(storedHash))), storedHash)
}

/** Checks a mysql_native_password response against the stored SHA1(SHA1(pw)). */
export const verifyNativePassword = (
  scramble: Buffer,
  clientResponse: Buffer,
  storedHash: Buffer | undefined
): boolean => verifyProof(sha1, 20, clientResponse, storedHash, (stored) => sha1(scramble, stored))

/** The stored (fast-auth cache) form of a caching_sha2_password password: SHA256(SHA256(pw)). */
export const sha2PasswordHash = (password: string): Buffer => sha256(sha256(password))

/** Client side: SHA256(pw) XOR SHA256(SHA256(SHA256(pw)) || scramble); empty for "". */
export const scrambleCachingSha2 = (password: string, scramble: Buffer): Buffer => {
  if (password.length === 0) return Buffer.alloc(0)
  const stage1 = sha256(password)
  return xor(stage1, sha256(sha256(stage1), scramble))
}

/** Checks a caching_sha2_password fast-path response against the stored SHA256(SHA256(pw)). */
export const verifyCachingSha2 = (
  scramble: Buffer,
  clientResponse: Buffer,
  storedSha2Hash: Buffer | undefined
): boolean => verifyProof(sha256, 32, clientResponse, storedSha2Hash, (stored) => sha256(stored, scramble))
