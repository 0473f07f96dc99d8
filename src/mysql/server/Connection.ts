import type { Socket } from "node:net"
import { type SecureContext, TLSSocket } from "node:tls"
import type { LoadDataSpec } from "../../sql/LoadData.ts"
import type { Statement } from "../../sql/Statement.ts"
import { splitStatements } from "../../sql/Translator.ts"
import { Errors, MysqlError } from "../../query/Errors.ts"
import type { Outcome, QueryEngineService } from "../../query/QueryEngine.ts"
import type { Session } from "../../query/Session.ts"
import { Capability, MAX_PACKET_CHUNK, ServerStatus } from "../protocol/Constants.ts"
import { type ClientCommand, decodeCommand, decodeExecuteParams, type ParamType } from "../protocol/Decode.ts"
import {
  type ColumnDef,
  writeBinaryRow,
  writeColumnCount,
  writeColumnDefinition,
  writeEof,
  writeErr,
  writeOk,
  writeStmtPrepareOk,
  writeLocalInfileRequest,
  writeTextRow
} from "../protocol/Encode.ts"
import { type Packet, PacketReader } from "../protocol/PacketReader.ts"
import { ProtocolError } from "../protocol/ProtocolError.ts"
import { ResponseBuffer } from "../protocol/ResponseBuffer.ts"
import { type Authenticator, type AuthResult, startAuthentication } from "./Authentication.ts"
import { decodeQueryText, restoreBinaryLiterals } from "./BinaryQuery.ts"
import { paramDefinition } from "./ParamDefinition.ts"
import type { QueryMetrics } from "./QueryMetrics.ts"
import type { ReadSpan, ReadSpans } from "../../telemetry/ReadSpans.ts"

/** The reader reports the id of a long payload's last 16 MiB fragment; this is its first one's. */
const firstSequenceId = (p: Packet): number => (p.sequenceId - Math.floor(p.payload.length / MAX_PACKET_CHUNK)) & 0xff

interface InfileTransfer {
  readonly load: (data: Buffer) => Outcome | Promise<Outcome>
  readonly chunks: Array<Buffer>
  bytes: number
  /** Past max_local_infile_bytes: the rest is read and dropped, then the statement fails. */
  tooLarge: boolean
  /** The statements after this one in a multi-statement query. */
  readonly rest: { readonly texts: ReadonlyArray<string>; readonly next: number; readonly binary: boolean }
}

interface PreparedStatement {
  readonly id: number
  readonly statement: Statement
  readonly paramCount: number
  readonly columns: ReadonlyArray<ColumnDef>
  paramTypes: ReadonlyArray<ParamType> | undefined
  readonly longData: Map<number, Array<Buffer>>
}

export interface ConnectionDeps {
  readonly engine: QueryEngineService
  readonly authenticator: Authenticator
  readonly maxPacketBytes: number
  /** LOAD DATA LOCAL INFILE: the largest file accepted (0 = refused). */
  readonly maxLocalInfileBytes?: number
  /** TLS for connections that send an SSLRequest (the authenticator offers CLIENT_SSL then). */
  readonly secureContext?: SecureContext | undefined
  /** The socket is the unix socket (a secure transport, as in MySQL). */
  readonly unixSocket?: boolean
  readonly log: (level: "debug" | "warning", message: string) => void
  readonly onClose: () => void
  /** This worker's statement and error counts (absent in tests that do not look). */
  readonly metrics?: QueryMetrics | undefined
  /** With tracing on: a span per read statement. */
  readonly readSpans?: ReadSpans | undefined
}

/** Statements traced as reads (writes are traced where they replicate). */
const isRead = (kind: string): boolean => kind === "select" || kind === "show"

/**
 * One client connection: handshake, authentication, then commands strictly in order. Plain code
 * on the socket; a command whose execution is asynchronous (a lock wait, later a replicated
 * commit) pauses reading until it is answered.
 */
export class Connection {
  private readonly reader: PacketReader
  private readonly out = new ResponseBuffer(0)
  private session: Session | undefined
  private capabilities = 0
  private auth: AuthResult | undefined
  private busy = false
  private closed = false
  private multiStatements = false
  private readonly statements = new Map<number, PreparedStatement>()
  private nextStatementId = 1
  /** The payload of the command being run (COM_QUERY text is re-read from it when not UTF-8). */
  private rawQuery: Buffer = Buffer.alloc(0)
  private socket: Socket
  private tls = false
  /** Receiving a LOAD DATA LOCAL INFILE file: packets until an empty one are its bytes. */
  private infile: InfileTransfer | undefined = undefined

  constructor(socket: Socket, readonly id: number, private readonly deps: ConnectionDeps) {
    this.reader = new PacketReader(deps.maxPacketBytes)
    this.socket = socket
    if (deps.unixSocket !== true) socket.setNoDelay(true)
    this.listen(socket)
  }

  private listen(socket: Socket): void {
    socket.on("data", (chunk: Buffer) => {
      this.reader.push(chunk)
      this.pump()
    })
    socket.on("error", () => this.close())
    socket.on("close", () => this.close())
  }

  /** TLS or the unix socket. */
  get secure(): boolean {
    return this.tls || this.deps.unixSocket === true
  }

  /**
   * After an SSLRequest: the rest of the stream is TLS. Bytes already read past the request (the
   * ClientHello may share its chunk) go back into the socket, which node:tls reads first.
   */
  private startTls(): void {
    const raw = this.socket
    raw.removeAllListeners("data")
    raw.removeAllListeners("close")
    raw.removeAllListeners("error")
    raw.on("error", () => this.close())
    raw.pause()
    const rest = this.reader.takeRemaining()
    if (rest.length > 0) raw.unshift(rest)
    const secure = new TLSSocket(raw, { isServer: true, secureContext: this.deps.secureContext! })
    this.socket = secure
    this.tls = true
    this.listen(secure)
  }

  /** Sends the greeting; `reject` answers ER_CON_COUNT_ERROR (too many connections) instead. */
  start(reject?: MysqlError): void {
    if (reject !== undefined) {
      writeErr(this.out, reject)
      this.flush()
      this.socket.end()
      return
    }
    this.auth = startAuthentication(this.deps.authenticator, this.out, this.id, this.remoteHost(), { secure: () => this.secure })
    this.flush()
  }

  private remoteHost(): string {
    const a = this.socket.remoteAddress
    return a === undefined ? "localhost" : a.replace(/^::ffff:/, "")
  }

  private pump(): void {
    while (!this.busy && !this.closed) {
      const packet = this.reader.next()
      if (packet === undefined) return
      if (packet instanceof ProtocolError) return this.fail(packet.tooLarge === true ? Errors.packetTooLarge() : Errors.malformedPacket(), packet.message)
      if (firstSequenceId(packet) !== this.expectedSequenceId()) return this.fail(Errors.packetsOutOfOrder(), `sequence id ${packet.sequenceId}`)
      const pending = this.session === undefined ? this.authenticate(packet) : this.infile !== undefined ? this.infileData(this.infile, packet) : this.command(packet)
      if (pending !== undefined) {
        this.busy = true
        pending.then(
          () => {
            this.busy = false
            this.pump()
          },
          (e: unknown) => {
            this.busy = false
            this.fail(Errors.general("internal error"), String(e))
          }
        )
      }
    }
  }

  /** A command starts at 0; during authentication the client answers with the id after ours. */
  private expectedSequenceId(): number {
    return this.session === undefined || this.infile !== undefined ? this.out.sequenceId : 0
  }

  private authenticate(packet: Packet): Promise<void> | undefined {
    const auth = this.auth!
    const step = auth.step(packet, this.out)
    this.flush()
    if (step._tag === "Continue") return undefined
    if (step._tag === "StartTls") {
      this.startTls()
      return undefined
    }
    if (step._tag === "Failed") {
      this.deps.log("warning", `connection ${this.id}: ${step.reason}`)
      this.close()
      return undefined
    }
    this.capabilities = step.capabilities
    this.multiStatements = (step.capabilities & Capability.MULTI_STATEMENTS) !== 0
    const session = this.deps.engine.newSession(this.id, step.user, this.remoteHost())
    session.foundRowsFlag = (step.capabilities & Capability.FOUND_ROWS) !== 0
    if (this.socket instanceof TLSSocket) session.tls = { cipher: this.socket.getCipher().name, version: this.socket.getProtocol() ?? "" }
    this.out.sequenceId = step.nextSequenceId
    if (step.database !== undefined) {
      try {
        this.deps.engine.useDatabase(session, step.database)
      } catch (e) {
        this.writeError(e)
        this.flush()
        this.close()
        return undefined
      }
    }
    this.session = session
    writeOk(this.out, { affectedRows: 0, lastInsertId: 0, status: this.status(), warnings: 0 })
    this.flush()
    return undefined
  }

  private status(more = false): number {
    const s = this.session
    let status = 0
    if (s === undefined || s.autocommit) status |= ServerStatus.AUTOCOMMIT
    if (s?.inTransaction === true) status |= ServerStatus.IN_TRANS
    if (more) status |= ServerStatus.MORE_RESULTS_EXISTS
    return status
  }

  private get deprecateEof(): boolean {
    return (this.capabilities & Capability.DEPRECATE_EOF) !== 0
  }

  private command(packet: Packet): Promise<void> | undefined {
    this.out.sequenceId = (packet.sequenceId + 1) & 0xff
    const cmd = decodeCommand(packet.payload, this.capabilities)
    this.rawQuery = packet.payload
    if (cmd instanceof ProtocolError) {
      this.fail(Errors.malformedPacket(), cmd.message)
      return undefined
    }
    try {
      const pending = this.dispatch(cmd)
      if (pending !== undefined) return pending.then(() => this.flush())
    } catch (e) {
      this.writeError(e)
    }
    this.flush()
    return undefined
  }

  private dispatch(cmd: ClientCommand): Promise<void> | undefined {
    const session = this.session!
    const engine = this.deps.engine
    switch (cmd._tag) {
      case "Query":
        return this.query(cmd.sql, this.rawQuery)
      case "InitDb":
        engine.useDatabase(session, cmd.database)
        return this.ok()
      case "Ping":
        return this.ok()
      case "Quit":
        this.close()
        return undefined
      case "StmtPrepare":
        return this.prepare(cmd.sql)
      case "StmtExecute":
        return this.executePrepared(cmd.statementId, cmd.body)
      case "StmtSendLongData": {
        const ps = this.statements.get(cmd.statementId)
        if (ps !== undefined) {
          const chunks = ps.longData.get(cmd.paramId) ?? []
          chunks.push(cmd.data)
          ps.longData.set(cmd.paramId, chunks)
        }
        return undefined
      }
      case "StmtClose":
        this.statements.delete(cmd.statementId)
        return undefined
      case "StmtReset": {
        const ps = this.statements.get(cmd.statementId)
        if (ps === undefined) throw Errors.unknownStatementHandler(cmd.statementId, "mysqld_stmt_reset")
        ps.longData.clear()
        return this.ok()
      }
      case "SetOption":
        this.multiStatements = cmd.option === 0
        if (this.deprecateEof) writeOk(this.out, { affectedRows: 0, lastInsertId: 0, status: this.status(), warnings: 0, header: 0xfe })
        else writeEof(this.out, { warnings: 0, status: this.status() })
        return undefined
      case "ResetConnection":
        engine.resetSession(session)
        this.statements.clear()
        return this.ok()
      case "ChangeUser":
        return this.changeUser(cmd)
      case "FieldList":
        return this.fieldList(cmd.table)
      case "Statistics":
        this.out.begin().fixedString("Uptime: 0  Threads: 1  Questions: 0  Slow queries: 0  Opens: 0  Open tables: 0").end()
        return undefined
      default:
        throw Errors.unknownCommand()
    }
  }

  private ok(): undefined {
    writeOk(this.out, { affectedRows: 0, lastInsertId: 0, status: this.status(), warnings: 0 })
    return undefined
  }

  private query(decoded: string, payload: Buffer): Promise<void> | undefined {
    const session = this.session!
    // Invalid UTF-8 became U+FFFD in `decoded`: read the bytes again (COM_QUERY: 1 command byte, then text).
    const { sql, binary } = decoded.includes("\uFFFD") ? decodeQueryText(payload.subarray(1)) : { sql: decoded, binary: false }
    const texts = this.multiStatements && sql.includes(";") ? splitStatements(sql) : [sql]
    if (texts.length === 0) throw Errors.syntax("")
    return this.runSequence(session, texts, 0, binary)
  }

  /** Runs statements i.. of a multi-statement query, each answered with MORE_RESULTS_EXISTS but the last. */
  private runSequence(session: Session, texts: ReadonlyArray<string>, i: number, binary: boolean): Promise<void> | undefined {
    for (; i < texts.length; i++) {
      const more = i < texts.length - 1
      const startedMs = this.deps.metrics?.now() ?? 0
      let kind = "invalid"
      let span: ReadSpan | undefined
      let outcome: Outcome | Promise<Outcome>
      try {
        const parsed = this.deps.engine.parse(session, texts[i]!)
        kind = parsed.kind
        if (parsed.kind === "load_data" && parsed.load.local) return this.requestInfile(session, parsed.load, { texts, next: i + 1, binary })
        span = this.readSpan(session, kind)
        outcome = this.deps.engine.execute(session, binary ? restoreBinaryLiterals(parsed) : parsed, [])
      } catch (e) {
        this.writeError(e)
        this.answered(kind, startedMs, span, e)
        return undefined
      }
      if (outcome instanceof Promise) {
        const next = i + 1
        return outcome.then(
          (o) => {
            this.writeOutcome(o, false, more)
            this.answered(kind, startedMs, span)
            return more ? this.runSequence(session, texts, next, binary) : undefined
          },
          (e: unknown) => {
            this.writeError(e)
            this.answered(kind, startedMs, span, e)
          }
        )
      }
      this.writeOutcome(outcome, false, more)
      this.answered(kind, startedMs, span)
    }
    return undefined
  }

  /** LOAD DATA LOCAL INFILE: checks the table, then asks the client for the file (0xFB + name). */
  private requestInfile(session: Session, spec: LoadDataSpec, rest: InfileTransfer["rest"]): undefined {
    const max = this.deps.maxLocalInfileBytes ?? 0
    if (max === 0 || (this.capabilities & Capability.LOCAL_FILES) === 0) throw Errors.localInfileDisabled()
    const load = this.deps.engine.loadData(session, spec)
    writeLocalInfileRequest(this.out, spec.file)
    this.infile = { load, chunks: [], bytes: 0, tooLarge: false, rest }
    return undefined
  }

  /** One packet of the file; the empty one ends it and runs the load. */
  private infileData(transfer: InfileTransfer, packet: Packet): Promise<void> | undefined {
    this.out.sequenceId = (packet.sequenceId + 1) & 0xff
    if (packet.payload.length > 0) {
      if (transfer.tooLarge) return undefined
      transfer.bytes += packet.payload.length
      if (transfer.bytes > (this.deps.maxLocalInfileBytes ?? 0)) {
        transfer.tooLarge = true
        transfer.chunks.length = 0
      } else transfer.chunks.push(packet.payload)
      return undefined
    }
    this.infile = undefined
    const session = this.session!
    const { texts, next, binary } = transfer.rest
    const more = next < texts.length
    const after = (): Promise<void> | undefined => {
      const pending = more ? this.runSequence(session, texts, next, binary) : undefined
      if (pending !== undefined) return pending.then(() => this.flush())
      this.flush()
      return undefined
    }
    let outcome: Outcome | Promise<Outcome>
    try {
      if (transfer.tooLarge) throw Errors.localInfileTooLarge(this.deps.maxLocalInfileBytes ?? 0)
      outcome = transfer.load(transfer.chunks.length === 1 ? transfer.chunks[0]! : Buffer.concat(transfer.chunks))
    } catch (e) {
      this.writeError(e)
      this.flush()
      return undefined
    }
    if (outcome instanceof Promise) {
      return outcome.then(
        (o) => {
          this.writeOutcome(o, false, more)
          return after()
        },
        (e: unknown) => {
          this.writeError(e)
          this.flush()
        }
      )
    }
    this.writeOutcome(outcome, false, more)
    return after()
  }

  private writeOutcome(o: Outcome, binary: boolean, more: boolean): void {
    const session = this.session!
    const warnings = Math.min(session.warnings.length, 0xffff)
    if (o._tag === "Ok") {
      // Servers send the info text length-encoded whatever was negotiated; libmariadb relies on it.
      writeOk(this.out, { affectedRows: o.affectedRows, lastInsertId: o.lastInsertId, status: this.status(more), warnings, ...(o.info === undefined ? {} : { info: o.info, sessionTrack: true }) })
      return
    }
    const out = this.out
    writeColumnCount(out, o.columns.length)
    for (const c of o.columns) writeColumnDefinition(out, c)
    if (!this.deprecateEof) writeEof(out, { warnings: 0, status: this.status(more) })
    if (binary) for (const row of o.rows) writeBinaryRow(out, o.columns, row)
    else for (const row of o.rows) writeTextRow(out, row)
    if (this.deprecateEof) writeOk(out, { affectedRows: 0, lastInsertId: 0, status: this.status(more), warnings, header: 0xfe })
    else writeEof(out, { warnings, status: this.status(more) })
    if (out.length > 1 << 20) this.flush()
  }

  private prepare(sql: string): undefined {
    const info = this.deps.engine.prepare(this.session!, sql)
    const id = this.nextStatementId++
    this.statements.set(id, { id, statement: info.statement, paramCount: info.paramCount, columns: info.columns, paramTypes: undefined, longData: new Map() })
    const out = this.out
    writeStmtPrepareOk(out, { statementId: id, columnCount: info.columns.length, paramCount: info.paramCount, warnings: 0 })
    if (info.paramCount > 0) {
      for (let i = 0; i < info.paramCount; i++) writeColumnDefinition(out, paramDefinition)
      if (!this.deprecateEof) writeEof(out, { warnings: 0, status: this.status() })
    }
    if (info.columns.length > 0) {
      for (const c of info.columns) writeColumnDefinition(out, c)
      if (!this.deprecateEof) writeEof(out, { warnings: 0, status: this.status() })
    }
    return undefined
  }

  private executePrepared(statementId: number, body: Buffer): Promise<void> | undefined {
    const ps = this.statements.get(statementId)
    if (ps === undefined) throw Errors.unknownStatementHandler(statementId, "mysqld_stmt_execute")
    const decoded = decodeExecuteParams(body, ps.paramCount, ps.paramTypes, ps.longData.size > 0 ? ps.longData : undefined)
    if (decoded instanceof ProtocolError) throw Errors.wrongArguments("mysqld_stmt_execute")
    ps.paramTypes = decoded.types
    if (ps.longData.size > 0) ps.longData.clear()
    const startedMs = this.deps.metrics?.now() ?? 0
    const kind = ps.statement.kind
    const span = this.readSpan(this.session!, kind)
    let outcome: Outcome | Promise<Outcome>
    try {
      outcome = this.deps.engine.execute(this.session!, ps.statement, decoded.values)
    } catch (e) {
      this.answered(kind, startedMs, span, e)
      throw e
    }
    if (outcome instanceof Promise) {
      return outcome.then(
        (o) => {
          this.writeOutcome(o, true, false)
          this.answered(kind, startedMs, span)
        },
        (e: unknown) => {
          this.writeError(e)
          this.answered(kind, startedMs, span, e)
        }
      )
    }
    this.writeOutcome(outcome, true, false)
    this.answered(kind, startedMs, span)
    return undefined
  }

  private readSpan(session: Session, kind: string): ReadSpan | undefined {
    return this.deps.readSpans !== undefined && isRead(kind) ? this.deps.readSpans.start(session.database, kind) : undefined
  }

  /** A statement was answered (`error`: with an ERR packet): its metrics and read span. */
  private answered(kind: string, startedMs: number, span: ReadSpan | undefined, error?: unknown): void {
    this.deps.metrics?.statement(kind, startedMs)
    span?.end(error)
  }

  private changeUser(cmd: Extract<ClientCommand, { _tag: "ChangeUser" }>): undefined {
    const session = this.session!
    const result = this.auth!.verifyChangeUser(cmd.username, cmd.authResponse, cmd.authPluginName)
    if (!result) {
      writeErr(this.out, Errors.accessDenied(cmd.username, this.remoteHost(), cmd.authResponse.length > 0))
      this.flush()
      this.close()
      return undefined
    }
    this.deps.engine.resetSession(session)
    session.database = undefined
    session.user = cmd.username
    this.statements.clear()
    if (cmd.database !== undefined && cmd.database !== "") this.deps.engine.useDatabase(session, cmd.database)
    return this.ok()
  }

  private fieldList(table: string): undefined {
    const session = this.session!
    const statement = this.deps.engine.parse(session, `SELECT * FROM \`${table.replace(/`/g, "``")}\` LIMIT 0`)
    const outcome = this.deps.engine.execute(session, statement, [])
    if (outcome instanceof Promise || outcome._tag !== "Rows") throw Errors.general("field list unavailable")
    for (const c of outcome.columns) writeColumnDefinition(this.out, c)
    if (this.deprecateEof) writeOk(this.out, { affectedRows: 0, lastInsertId: 0, status: this.status(), warnings: 0, header: 0xfe })
    else writeEof(this.out, { warnings: 0, status: this.status() })
    return undefined
  }

  private writeError(e: unknown): undefined {
    if (e instanceof MysqlError) {
      this.deps.metrics?.error(e.code)
      writeErr(this.out, e)
      return undefined
    }
    this.deps.log("warning", `connection ${this.id}: unexpected error: ${e instanceof Error ? e.stack ?? e.message : String(e)}`)
    const general = Errors.general(e instanceof Error ? e.message : String(e))
    this.deps.metrics?.error(general.code)
    writeErr(this.out, general)
    return undefined
  }

  /** Answers a protocol violation with an ERR packet and closes this connection (never the server). */
  private fail(error: MysqlError, detail: string): undefined {
    this.deps.log("debug", `connection ${this.id}: ${detail}`)
    this.deps.metrics?.error(error.code)
    if (!this.closed) {
      writeErr(this.out, error)
      this.flush()
      this.socket.end()
    }
    this.close()
    return undefined
  }

  private flush(): void {
    if (this.out.length === 0 || this.closed) return
    this.socket.write(this.out.take())
  }

  close(): void {
    if (this.closed) return
    this.closed = true
    if (this.session !== undefined) this.deps.engine.closeSession(this.session)
    this.statements.clear()
    if (!this.socket.destroyed) this.socket.end()
    this.deps.onClose()
  }
}
