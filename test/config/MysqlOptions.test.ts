import { execFileSync } from "node:child_process"
import { mkdtempSync, rmSync, writeFileSync } from "node:fs"
import os from "node:os"
import path from "node:path"
import { afterAll, beforeAll, describe, expect, it } from "vitest"
import { fromToml } from "../../src/config/NodeConfig.ts"

let dir: string
const f = (name: string) => path.join(dir, name)

beforeAll(() => {
  dir = mkdtempSync(path.join(os.tmpdir(), "marmot-cfg-"))
  for (const n of ["a", "b"]) {
    execFileSync("openssl", ["req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", f(`${n}.key`), "-out", f(`${n}.pem`), "-days", "1", "-subj", `/CN=${n}`], { stdio: "ignore" })
  }
  writeFileSync(f("junk.pem"), "not a certificate\n")
})

afterAll(() => rmSync(dir, { recursive: true, force: true }))

describe("[mysql] TLS, authentication and LOCAL INFILE keys", () => {
  it("reads a certificate and its key (and a CA)", () => {
    const s = fromToml({ mysql: { tls_cert_file: f("a.pem"), tls_key_file: f("a.key"), tls_ca_file: f("b.pem"), require_secure_transport: true } })
    expect(s.mysql.tls).toMatchObject({ certFile: f("a.pem"), keyFile: f("a.key"), caFile: f("b.pem") })
    expect(s.mysql.tls?.cert).toContain("BEGIN CERTIFICATE")
    expect(s.mysql.requireSecureTransport).toBe(true)
  })

  it("names the key of a missing, unreadable or wrong file", () => {
    expect(() => fromToml({ mysql: { tls_cert_file: f("a.pem") } })).toThrowError(/^config: mysql\.tls_key_file: missing \(tls_cert_file is set\)$/)
    expect(() => fromToml({ mysql: { tls_key_file: f("a.key") } })).toThrowError(/^config: mysql\.tls_cert_file: missing/)
    expect(() => fromToml({ mysql: { tls_ca_file: f("a.pem") } })).toThrowError(/^config: mysql\.tls_ca_file: needs tls_cert_file and tls_key_file$/)
    expect(() => fromToml({ mysql: { tls_cert_file: f("nope.pem"), tls_key_file: f("a.key") } })).toThrowError(/^config: mysql\.tls_cert_file: cannot read .*nope\.pem: ENOENT$/)
    expect(() => fromToml({ mysql: { tls_cert_file: f("junk.pem"), tls_key_file: f("a.key") } })).toThrowError(/^config: mysql\.tls_cert_file: .*junk\.pem is not a PEM certificate$/)
    expect(() => fromToml({ mysql: { tls_cert_file: f("a.pem"), tls_key_file: f("junk.pem") } })).toThrowError(/^config: mysql\.tls_key_file: .*is not a PEM private key/)
    expect(() => fromToml({ mysql: { tls_cert_file: f("a.pem"), tls_key_file: f("b.key") } })).toThrowError(/^config: mysql\.tls_key_file: .*b\.key does not belong to the certificate/)
    expect(() => fromToml({ mysql: { tls_cert_file: f("a.pem"), tls_key_file: f("a.key"), tls_ca_file: f("junk.pem") } })).toThrowError(/^config: mysql\.tls_ca_file:/)
  })

  it("checks the value types", () => {
    expect(() => fromToml({ mysql: { require_secure_transport: "ON" } })).toThrowError(/^config: mysql\.require_secure_transport: must be true or false$/)
    expect(() => fromToml({ mysql: { default_authentication_plugin: "sha256_password" } })).toThrowError(/mysql\.default_authentication_plugin: must be one of/)
    expect(() => fromToml({ mysql: { max_local_infile_bytes: -1 } })).toThrowError(/mysql\.max_local_infile_bytes: must be between/)
  })
})

describe("[extensions]", () => {
  it("reads the directory and always_loaded, and names bad keys", () => {
    expect(fromToml({ extensions: { directory: "/x", always_loaded: ["a", "b"] } }).extensions).toEqual({ directory: "/x", alwaysLoaded: ["a", "b"] })
    expect(() => fromToml({ extensions: { always_loaded: ["a"] } })).toThrowError(/^config: extensions\.always_loaded: needs extensions\.directory$/)
    expect(() => fromToml({ extensions: { directory: "/x", always_loaded: "a" } })).toThrowError(/^config: extensions\.always_loaded: must be an array of strings$/)
    expect(() => fromToml({ extensions: { dir: "/x" } })).toThrowError(/^config: extensions\.dir: unknown key$/)
  })
})
