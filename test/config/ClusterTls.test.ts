import { execFileSync } from "node:child_process"
import { mkdtempSync, readFileSync, rmSync } from "node:fs"
import os from "node:os"
import path from "node:path"
import { afterAll, beforeAll, describe, expect, it } from "vitest"
import { fromToml } from "../../src/config/NodeConfig.ts"

let dir: string
const file = (name: string) => path.join(dir, name)

beforeAll(() => {
  dir = mkdtempSync(path.join(os.tmpdir(), "marmot-cluster-tls-"))
  execFileSync("openssl", ["req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", file("node.key"), "-out", file("node.pem"), "-days", "1", "-subj", "/CN=node"], { stdio: "ignore" })
})

afterAll(() => rmSync(dir, { recursive: true, force: true }))

describe("[cluster] TLS keys", () => {
  it("reads the node's certificate, key and the cluster CA; off by default", () => {
    expect(fromToml({}).cluster.tls).toBeUndefined()
    const s = fromToml({ cluster: { tls_cert_file: file("node.pem"), tls_key_file: file("node.key"), tls_ca_file: file("node.pem"), require_tls: true } })
    expect(s.cluster.requireTls).toBe(true)
    expect(s.cluster.tls?.cert).toBe(readFileSync(file("node.pem"), "utf8"))
    expect(s.cluster.tls?.ca).toBe(readFileSync(file("node.pem"), "utf8"))
    expect(s.cluster.tls?.keyFile).toBe(file("node.key"))
  })

  it("names the bad key: a missing file, a key without a certificate, no CA, require_tls without certificates", () => {
    expect(() => fromToml({ cluster: { tls_cert_file: file("nope.pem"), tls_key_file: file("node.key"), tls_ca_file: file("node.pem") } }))
      .toThrowError(/^config: cluster\.tls_cert_file: cannot read .*nope\.pem: ENOENT$/)
    expect(() => fromToml({ cluster: { tls_key_file: file("node.key") } })).toThrowError(/^config: cluster\.tls_cert_file: missing \(tls_key_file is set\)$/)
    expect(() => fromToml({ cluster: { tls_cert_file: file("node.pem"), tls_key_file: file("node.key") } }))
      .toThrowError(/^config: cluster\.tls_ca_file: missing: peers are verified against the cluster CA/)
    expect(() => fromToml({ cluster: { require_tls: true } })).toThrowError(/^config: cluster\.require_tls: needs tls_cert_file, tls_key_file and tls_ca_file$/)
    expect(() => fromToml({ cluster: { require_tls: "yes" } })).toThrowError(/^config: cluster\.require_tls: must be true or false$/)
  })
})
