/**
 * Where the chaos cluster's nodes live, and how the nemesis cuts them apart.
 *
 * Partitions need each node to have an address of its own that the kernel can filter on. On one
 * loopback interface that does not exist: a node's outgoing peer calls leave from 127.0.0.1 whatever
 * address it advertises, so a TCP proxy in front of a node's peer port (or an iptables rule on its
 * port) can block callers of that node but cannot tell node A's calls to B from C's calls to B.
 * Network namespaces give each node a real interface instead: as root, every run creates a private
 * hub namespace holding a bridge and one namespace per node, joined to the bridge by a veth pair
 * (node i has 10.99.0.(i+1)/24 and peer port 7000; nothing is visible outside the run's namespaces,
 * so these fixed numbers cannot collide with anything). A partition is a pair of blackhole routes,
 * one in each node's namespace (packets are dropped silently, as with Jepsen's iptables DROP; no
 * iptables needed, only iproute2). The test process reaches every node's MySQL server through a unix
 * socket (`[mysql] unix_socket`), which crosses namespaces, so partitions never cut the clients off.
 *
 * Without root or without netns support, `Topology.loopback()` runs the nodes on 127.0.0.1 with
 * ephemeral ports and `canPartition` is false: the nemesis then skips partitions and says so.
 */
import { execFileSync } from "node:child_process"

export interface Topology {
  readonly kind: "netns" | "loopback"
  readonly canPartition: boolean
  /** Command prefix that runs a program inside node i's namespace (empty on loopback). */
  wrapper(i: number): ReadonlyArray<string>
  /** The address node i binds its peer port to and advertises. */
  peerHost(i: number): string
  /** Drop all packets between nodes a and b (both directions). */
  cut(a: number, b: number): void
  /** Remove every cut. */
  healAll(): void
  /** The pairs cut now, as "a-b" (a < b). */
  cuts(): ReadonlyArray<string>
  /** Delete the namespaces (after every process in them has exited). */
  destroy(): void
}

const ip = (...args: Array<string>) => execFileSync("ip", args, { stdio: ["ignore", "pipe", "pipe"], timeout: 10_000 }).toString()

const addressOf = (i: number) => `10.99.0.${i + 1}`

export function netnsTopology(size: number, tag: string): Topology {
  const hub = `mchaos-${tag}-hub`
  const nodeNs = (i: number) => `mchaos-${tag}-n${i + 1}`
  const created: Array<string> = []
  const cut = new Set<string>()
  const destroy = () => {
    for (const ns of created.splice(0).reverse()) {
      try {
        ip("netns", "del", ns)
      } catch {
        // already gone
      }
    }
  }
  try {
    ip("netns", "add", hub)
    created.push(hub)
    ip("-n", hub, "link", "set", "lo", "up")
    ip("-n", hub, "link", "add", "br0", "type", "bridge")
    ip("-n", hub, "link", "set", "br0", "up")
    for (let i = 0; i < size; i++) {
      const ns = nodeNs(i)
      ip("netns", "add", ns)
      created.push(ns)
      ip("-n", ns, "link", "set", "lo", "up")
      ip("-n", hub, "link", "add", `v${i + 1}`, "type", "veth", "peer", "name", "eth0", "netns", ns)
      ip("-n", hub, "link", "set", `v${i + 1}`, "master", "br0")
      ip("-n", hub, "link", "set", `v${i + 1}`, "up")
      ip("-n", ns, "addr", "add", `${addressOf(i)}/24`, "dev", "eth0")
      ip("-n", ns, "link", "set", "eth0", "up")
    }
  } catch (e) {
    destroy()
    throw e
  }
  // If the run dies without destroy() (an uncaught error, process.exit on a signal), the namespaces
  // go with it. Servers.ts's exit hook, registered earlier, has SIGKILLed the nodes by then.
  process.once("exit", destroy)
  const key = (a: number, b: number) => (a < b ? `${a}-${b}` : `${b}-${a}`)
  return {
    kind: "netns",
    canPartition: true,
    wrapper: (i) => ["ip", "netns", "exec", nodeNs(i)],
    peerHost: addressOf,
    cut: (a, b) => {
      if (a === b || cut.has(key(a, b))) return
      ip("-n", nodeNs(a), "route", "add", "blackhole", `${addressOf(b)}/32`)
      ip("-n", nodeNs(b), "route", "add", "blackhole", `${addressOf(a)}/32`)
      cut.add(key(a, b))
    },
    healAll: () => {
      for (const k of [...cut]) {
        const [a, b] = k.split("-").map(Number) as [number, number]
        ip("-n", nodeNs(a), "route", "del", "blackhole", `${addressOf(b)}/32`)
        ip("-n", nodeNs(b), "route", "del", "blackhole", `${addressOf(a)}/32`)
        cut.delete(k)
      }
    },
    cuts: () => [...cut].sort(),
    destroy
  }
}

export function loopbackTopology(): Topology {
  return {
    kind: "loopback",
    canPartition: false,
    wrapper: () => [],
    peerHost: () => "127.0.0.1",
    cut: () => {
      throw new Error("partitions need network namespaces (root); this run is on plain loopback")
    },
    healAll: () => {},
    cuts: () => [],
    destroy: () => {}
  }
}

/** Network namespaces when we are root and they work, else plain loopback (the reason is returned). */
export function chooseTopology(size: number, tag: string, want: "auto" | "netns" | "loopback"): { topology: Topology; note: string } {
  if (want === "loopback") return { topology: loopbackTopology(), note: "loopback requested: no partitions" }
  if (process.getuid?.() !== 0) {
    if (want === "netns") throw new Error("netns topology requested but not running as root")
    return { topology: loopbackTopology(), note: "not root: no network namespaces, so no partitions" }
  }
  try {
    return { topology: netnsTopology(size, tag), note: "network namespaces: partitions by blackhole routes" }
  } catch (e) {
    if (want === "netns") throw e
    return { topology: loopbackTopology(), note: `network namespaces failed (${String(e).split("\n")[0]}): no partitions` }
  }
}
