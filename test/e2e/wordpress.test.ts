/**
 * Debian's WordPress, unmodified, against our server: install, front page, admin login and dashboard,
 * a post created through the REST API (cookie login + X-WP-Nonce), a comment through
 * wp-comments-post.php, both read back through REST and the post's page, then a forced database
 * upgrade (dbDelta over the existing tables: DESCRIBE, SHOW FULL COLUMNS, SHOW INDEX).
 *
 * Zero SQL errors: the server runs with `[logging] level = "debug"`, which logs every statement that
 * fails ("statement failed: …"). The only errors allowed are the 1146s of a fresh install (WordPress
 * reads options and runs `DESCRIBE wp_x;` before its tables exist: 129 with WordPress 6.1), matched by
 * their exact message `Table '<db>.wp_<name>' doesn't exist`, and only until the installer is done.
 *
 * Needs `wordpress wordpress-theme-twentytwentythree php-cli php-mysql curl` (installed by .ci/run);
 * without them the test fails rather than skips.
 */
import { spawn, type ChildProcess } from "node:child_process"
import { cpSync, existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs"
import os from "node:os"
import path from "node:path"
import mysql from "mysql2/promise"
import { afterAll, beforeAll, describe, expect, it } from "vitest"
import { freePort, run, startMarmot, USERS_TOML, type RunningServer } from "../support/Servers.ts"

const WP_SRC = "/usr/share/wordpress"
const DB = "wp_e2e"
const PASSWORD = "e2e-pass-123"

let server: RunningServer
let work: string
let php: ChildProcess | undefined
let base: string
const jar = () => path.join(work, "cookies.txt")

/** Statement failures the server logged (message and text), in order. */
const failures = (from = 0): Array<string> =>
  server
    .output()
    .slice(from)
    .split("\n")
    .filter((l) => l.includes("statement failed: "))
    .map((l) => l.replace(/^.*statement failed: connection \d+: /, ""))

const expectedInstallError = new RegExp(`^ERROR 1146 \\(42S02\\): Table '${DB}\\.wp_[a-z_]+' doesn't exist -- `)

async function curl(args: ReadonlyArray<string>): Promise<{ code: number; body: string; headers: string }> {
  const headers = path.join(work, "headers.txt")
  const r = await run("curl", ["-sS", "-D", headers, "-w", "\n%{http_code}", ...args], { timeoutMs: 30_000 })
  if (r.code !== 0) throw new Error(`curl ${args.join(" ")} failed (${r.code}): ${r.stderr}`)
  const nl = r.stdout.lastIndexOf("\n")
  return { code: Number(r.stdout.slice(nl + 1)), body: r.stdout.slice(0, nl), headers: existsSync(headers) ? readFileSync(headers, "utf8") : "" }
}

const form = (fields: Record<string, string>) => Object.entries(fields).flatMap(([k, v]) => ["--data-urlencode", `${k}=${v}`])

beforeAll(async () => {
  if (!existsSync(path.join(WP_SRC, "wp-settings.php"))) {
    throw new Error(`WordPress is not installed at ${WP_SRC} (apt-get install wordpress wordpress-theme-twentytwentythree php-cli php-mysql curl)`)
  }
  server = await startMarmot({ config: `${USERS_TOML}\n[logging]\nlevel = "debug"\n` })
  const c = await mysql.createConnection({ host: server.host, port: server.port, user: "root" })
  await c.query(`CREATE DATABASE ${DB}`)
  await c.end()

  work = mkdtempSync(path.join(os.tmpdir(), "wp-e2e-"))
  // A private copy: Debian's own wp-config.php reads /etc/wordpress and PHP resolves symlinks.
  cpSync(WP_SRC, path.join(work, "wp"), { recursive: true, verbatimSymlinks: true })
  writeFileSync(
    path.join(work, "wp", "wp-config.php"),
    `<?php
define( 'DB_NAME', '${DB}' );
define( 'DB_USER', 'root' );
define( 'DB_PASSWORD', '' );
define( 'DB_HOST', '127.0.0.1:${server.port}' );
define( 'DB_CHARSET', 'utf8mb4' );
define( 'DB_COLLATE', '' );
define( 'AUTH_KEY', 'e2e1' ); define( 'SECURE_AUTH_KEY', 'e2e2' );
define( 'LOGGED_IN_KEY', 'e2e3' ); define( 'NONCE_KEY', 'e2e4' );
define( 'AUTH_SALT', 'e2e5' ); define( 'SECURE_AUTH_SALT', 'e2e6' );
define( 'LOGGED_IN_SALT', 'e2e7' ); define( 'NONCE_SALT', 'e2e8' );
$table_prefix = 'wp_';
define( 'WP_DEBUG', false );
define( 'WP_CONTENT_DIR', '${work}/wp/wp-content' );
define( 'WP_HTTP_BLOCK_EXTERNAL', true );
define( 'AUTOMATIC_UPDATER_DISABLED', true );
define( 'WP_AUTO_UPDATE_CORE', false );
define( 'DISABLE_WP_CRON', true );
if ( ! defined( 'ABSPATH' ) ) define( 'ABSPATH', __DIR__ . '/' );
require_once ABSPATH . 'wp-settings.php';
`
  )
  const port = await freePort()
  base = `http://127.0.0.1:${port}`
  // Several workers: the installer makes an HTTP request to itself. detached = setsid, so the
  // master and the workers it forks form one process group, stopped together in afterAll.
  php = spawn("php", ["-S", `127.0.0.1:${port}`, "-t", path.join(work, "wp")], {
    detached: true,
    env: { ...process.env, PHP_CLI_SERVER_WORKERS: "4" },
    stdio: ["ignore", "ignore", "ignore"]
  })
  for (let i = 0; i < 100; i++) {
    const r = await run("curl", ["-s", "-o", "/dev/null", "-w", "%{http_code}", `${base}/readme.html`], { timeoutMs: 5000 })
    if (r.stdout === "200") return
    await new Promise((resolve) => setTimeout(resolve, 100))
  }
  throw new Error("php -S did not start")
}, 120_000)

afterAll(async () => {
  if (php?.pid !== undefined && php.exitCode === null && php.signalCode === null) {
    try {
      process.kill(-php.pid, "SIGTERM")
    } catch {
      // already gone
    }
  }
  await server?.stop()
  if (work !== undefined) rmSync(work, { recursive: true, force: true })
})

describe("WordPress", { timeout: 30_000 }, () => {
  let installLogEnd = 0
  let postId = 0
  let nonce = ""

  it("installs (wp-admin/install.php?step=2) with only the fresh-install 1146 errors", async () => {
    const r = await curl([
      ...form({
        weblog_title: "E2E Blog",
        user_name: "admin",
        admin_password: PASSWORD,
        admin_password2: PASSWORD,
        pw_weak: "1",
        admin_email: "admin@example.invalid",
        blog_public: "0",
        language: ""
      }),
      `${base}/wp-admin/install.php?step=2`
    ])
    expect(r.code).toBe(200)
    expect(r.body).toContain("Success!")
    installLogEnd = server.output().length
    const errors = failures()
    expect(errors.filter((e) => !expectedInstallError.test(e))).toEqual([])
    // WordPress 6.1: option reads and DESCRIBEs of the 12 tables before they exist (129 of them)
    console.log(`fresh-install 1146 errors (expected): ${errors.length}`)
    expect(errors.length).toBeGreaterThan(0)
    expect(errors.length).toBeLessThan(200)
  })

  it("shows the front page with 'Hello world!'", async () => {
    const r = await curl([`${base}/`])
    expect(r.code).toBe(200)
    expect(r.body).toContain("Hello world!")
  })

  it("logs in as admin and shows the dashboard", async () => {
    const login = await curl([
      "-c", jar(), "-b", "wordpress_test_cookie=WP%20Cookie%20check",
      ...form({ log: "admin", pwd: PASSWORD, testcookie: "1", redirect_to: `${base}/wp-admin/` }),
      `${base}/wp-login.php`
    ])
    expect(login.code).toBe(302)
    expect(login.headers).toMatch(/^location: .*\/wp-admin\/\r?$/im)
    const dash = await curl(["-b", jar(), `${base}/wp-admin/`])
    expect(dash.code).toBe(200)
    expect(dash.body).toContain("<h1>Dashboard</h1>")
  })

  it("creates a post through the REST API (cookie + X-WP-Nonce)", async () => {
    const n = await curl(["-b", jar(), `${base}/wp-admin/admin-ajax.php?action=rest-nonce`])
    expect(n.code).toBe(200)
    nonce = n.body.trim()
    expect(nonce).toMatch(/^[0-9a-f]{10}$/)
    const r = await curl([
      "-b", jar(), "-H", `X-WP-Nonce: ${nonce}`, "-H", "Content-Type: application/json",
      "--data-binary", JSON.stringify({ title: "Ünïcode post ✓", content: "Body with émoji 🐢 and <b>markup</b>", status: "publish", categories: [1] }),
      `${base}/?rest_route=/wp/v2/posts`
    ])
    expect(r.code).toBe(201)
    const post = JSON.parse(r.body)
    expect(post.title.raw).toBe("Ünïcode post ✓")
    expect(post.status).toBe("publish")
    postId = post.id
    expect(postId).toBeGreaterThan(1)
  })

  it("adds a comment through wp-comments-post.php", async () => {
    const r = await curl([
      "-b", jar(),
      ...form({ comment_post_ID: String(postId), comment: "Nice post — ünïcode comment 🐢", comment_parent: "0" }),
      `${base}/wp-comments-post.php`
    ])
    expect(r.code).toBe(302)
    expect(r.headers).toMatch(/^location: .*#comment-\d+\r?$/im)
  })

  it("reads the post and the comment back (REST and the post's page)", async () => {
    const list = await curl([`${base}/?rest_route=/wp/v2/posts`])
    expect(list.code).toBe(200)
    // the total comes from SELECT SQL_CALC_FOUND_ROWS … / SELECT FOUND_ROWS()
    expect(list.headers).toMatch(/^x-wp-total: 2\r?$/im)
    const posts = JSON.parse(list.body) as Array<{ id: number; title: { rendered: string } }>
    expect(posts.map((p) => p.title.rendered)).toEqual(["Ünïcode post ✓", "Hello world!"])

    const search = await curl([`${base}/?rest_route=/wp/v2/posts&search=${encodeURIComponent("émoji")}`])
    expect(JSON.parse(search.body).map((p: { id: number }) => p.id)).toEqual([postId])

    const comments = await curl([`${base}/?rest_route=/wp/v2/comments&post=${postId}`])
    expect(comments.code).toBe(200)
    const cs = JSON.parse(comments.body) as Array<{ author_name: string; content: { rendered: string } }>
    expect(cs).toHaveLength(1)
    expect(cs[0]!.author_name).toBe("admin")
    expect(cs[0]!.content.rendered).toContain("Nice post — ünïcode comment 🐢")

    const page = await curl(["-L", `${base}/?p=${postId}`])
    expect(page.code).toBe(200)
    expect(page.body).toContain("Ünïcode post ✓")
    expect(page.body).toContain("Body with émoji 🐢")
    expect(page.body).toContain("Nice post — ünïcode comment 🐢")

    // and the rows as stored
    const c = await mysql.createConnection({ host: server.host, port: server.port, user: "root", database: DB, charset: "utf8mb4" })
    try {
      const [rows] = await c.query(
        "SELECT p.post_title, c.comment_content, p.comment_count FROM wp_posts p JOIN wp_comments c ON c.comment_post_ID = p.ID WHERE p.ID = ?",
        [postId]
      )
      expect(rows).toEqual([{ post_title: "Ünïcode post ✓", comment_content: "Nice post — ünïcode comment 🐢", comment_count: 1 }])
    } finally {
      await c.end()
    }
  })

  it("answers the metadata queries of dbDelta and wpdb (SHOW FULL COLUMNS, SHOW INDEX, SHOW TABLE STATUS)", async () => {
    const c = await mysql.createConnection({ host: server.host, port: server.port, user: "root", database: DB })
    try {
      const [cols] = await c.query<Array<mysql.RowDataPacket>>("SHOW FULL COLUMNS FROM wp_comments")
      expect(cols.slice(0, 3).map((r) => [r["Field"], r["Type"], r["Collation"], r["Null"], r["Key"], r["Default"], r["Extra"]])).toEqual([
        ["comment_ID", "bigint unsigned", null, "NO", "PRI", null, "auto_increment"],
        ["comment_post_ID", "bigint unsigned", null, "NO", "MUL", "0", ""],
        ["comment_author", "tinytext", "utf8mb4_general_ci", "NO", "", null, ""]
      ])
      const [idx] = await c.query<Array<mysql.RowDataPacket>>("SHOW INDEX FROM wp_posts")
      expect(idx.map((r) => `${r["Key_name"]}:${r["Seq_in_index"]}:${r["Column_name"]}:${r["Non_unique"]}`)).toEqual([
        "PRIMARY:1:ID:0",
        "post_name:1:post_name:1",
        "type_status_date:1:post_type:1",
        "type_status_date:2:post_status:1",
        "type_status_date:3:post_date:1",
        "type_status_date:4:ID:1",
        "post_parent:1:post_parent:1",
        "post_author:1:post_author:1"
      ])
      const [meta] = await c.query<Array<mysql.RowDataPacket>>("SHOW INDEX FROM wp_termmeta WHERE Column_name = 'meta_key'")
      expect(meta.map((r) => r["Key_name"])).toEqual(["meta_key"])
      const [status] = await c.query<Array<mysql.RowDataPacket>>("SHOW TABLE STATUS LIKE 'wp_users'")
      // the admin's id came from the id generator (auto_id_mode); the counter is past it
      const [[admin]] = await c.query<Array<mysql.RowDataPacket>>("SELECT ID FROM wp_users")
      expect(status.map((r) => [r["Name"], r["Rows"], r["Auto_increment"]])).toEqual([["wp_users", "1", String(BigInt(admin!["ID"]) + 1n)]])
      // information_schema (Site Health's query; GUI tools read COLUMNS and STATISTICS)
      const [sizes] = await c.query<Array<mysql.RowDataPacket>>(
        `SELECT TABLE_NAME AS 'table', TABLE_ROWS AS 'rows', SUM(data_length + index_length) as 'bytes' FROM information_schema.TABLES
         WHERE TABLE_SCHEMA = ? AND TABLE_NAME IN ('wp_users', 'wp_posts') GROUP BY TABLE_NAME`,
        [DB]
      )
      // (wp_posts: Hello world!, the sample page, the privacy page draft, our post, auto-drafts)
      expect(sizes.map((r) => [r["table"], Number(r["rows"]) >= (r["table"] === "wp_posts" ? 3 : 1), Number(r["bytes"]) > 0])).toEqual([["wp_posts", true, true], ["wp_users", true, true]])
      const [icols] = await c.query<Array<mysql.RowDataPacket>>(
        "SELECT COLUMN_NAME, DATA_TYPE, COLUMN_TYPE, CHARACTER_MAXIMUM_LENGTH, COLLATION_NAME, COLUMN_KEY FROM information_schema.COLUMNS WHERE TABLE_SCHEMA = ? AND TABLE_NAME = 'wp_users' ORDER BY ORDINAL_POSITION LIMIT 2",
        [DB]
      )
      expect(icols.map((r) => Object.values(r).map(String))).toEqual([
        ["ID", "bigint", "bigint unsigned", "null", "null", "PRI"],
        ["user_login", "varchar", "varchar(60)", "60", "utf8mb4_general_ci", "MUL"]
      ])
      const [stats] = await c.query<Array<mysql.RowDataPacket>>(
        "SELECT INDEX_NAME, COLUMN_NAME FROM information_schema.STATISTICS WHERE TABLE_SCHEMA = ? AND TABLE_NAME = 'wp_options' ORDER BY INDEX_NAME, SEQ_IN_INDEX",
        [DB]
      )
      expect(stats.map((r) => `${r["INDEX_NAME"]}.${r["COLUMN_NAME"]}`)).toEqual(["PRIMARY.option_id", "autoload.autoload", "option_name.option_name"])
    } finally {
      await c.end()
    }
  })

  it("runs a database upgrade from WordPress 5.0's db_version (dbDelta over the existing tables)", async () => {
    const c = await mysql.createConnection({ host: server.host, port: server.port, user: "root", database: DB })
    const dbVersion = async () => ((await c.query<Array<mysql.RowDataPacket>>("SELECT option_value FROM wp_options WHERE option_name = 'db_version'"))[0][0]!["option_value"])
    try {
      const current = await dbVersion()
      await c.query("UPDATE wp_options SET option_value = '44719' WHERE option_name = 'db_version'")
      const r = await curl(["-b", jar(), `${base}/wp-admin/upgrade.php?step=1`])
      expect(r.code).toBe(200)
      expect(r.body).toContain("Update Complete")
      expect(await dbVersion()).toBe(current)
    } finally {
      await c.end()
    }
  })

  it("shows Site Health's debug data and the database size (information_schema.TABLES, SHOW TABLE STATUS)", async () => {
    const page = await curl(["-b", jar(), `${base}/wp-admin/site-health.php?tab=debug`])
    expect(page.code).toBe(200)
    expect(page.body).toContain("8.0.36")
    const sizes = await curl(["-b", jar(), "-H", `X-WP-Nonce: ${nonce}`, `${base}/?rest_route=/wp-site-health/v1/directory-sizes`])
    expect(sizes.code).toBe(200)
    expect(JSON.parse(sizes.body).database_size.raw).toBeGreaterThan(0)
  })

  it("runs the scheduled jobs and the expired-transient cleanup (multi-table DELETE), archives, counts", async () => {
    const c = await mysql.createConnection({ host: server.host, port: server.port, user: "root", database: DB })
    const script = path.join(work, "jobs.php")
    writeFileSync(
      script,
      `<?php
define( 'WP_USE_THEMES', false );
require '${work}/wp/wp-load.php';
global $wpdb;
$errors = array();
// every scheduled event once (the ones that call WordPress.org fail fast: external HTTP is blocked)
foreach ( _get_cron_array() as $ts => $hooks ) foreach ( $hooks as $hook => $events ) foreach ( $events as $event ) {
  do_action_ref_array( $hook, $event['args'] );
  if ( $wpdb->last_error !== '' ) $errors[] = "$hook: {$wpdb->last_error}";
}
delete_expired_transients( true );
$left = (int) $wpdb->get_var( "SELECT COUNT(*) FROM {$wpdb->options} WHERE option_name LIKE '%transient%e2e_old'" );
$archives = wp_get_archives( array( 'type' => 'monthly', 'echo' => 0 ) ) . wp_get_archives( array( 'type' => 'daily', 'echo' => 0 ) );
$wpdb->get_results( "SELECT SQL_CALC_FOUND_ROWS ID FROM {$wpdb->posts} WHERE post_status = 'publish' LIMIT 1" );
$found = (int) $wpdb->get_var( 'SELECT FOUND_ROWS()' );
echo json_encode( array( 'errors' => $errors, 'left' => $left, 'archives' => substr_count( $archives, '<li>' ), 'found' => $found, 'posts' => (array) wp_count_posts() ) );
`
    )
    try {
      await c.query(
        `INSERT INTO wp_options (option_name, option_value, autoload) VALUES
         ('_transient_timeout_e2e_old', '1000', 'no'), ('_transient_e2e_old', 'v', 'no'),
         ('_site_transient_timeout_e2e_old', '1000', 'no'), ('_site_transient_e2e_old', 'v', 'no')`
      )
      const r = await run("php", [script], { timeoutMs: 30_000, cwd: path.join(work, "wp") })
      expect(r.code).toBe(0)
      const out = JSON.parse(r.stdout.slice(r.stdout.indexOf("{")))
      expect(out).toMatchObject({ errors: [], left: 0, archives: 2, found: 3 })
      expect(out.posts).toMatchObject({ publish: "2" })
    } finally {
      await c.end()
    }
  })

  it("dumps the site with mariadb-dump (SHOW CREATE TABLE in MySQL syntax, information_schema) and loads it back", async () => {
    const login = ["--no-defaults", "--skip-ssl", "-h127.0.0.1", `-P${server.port}`, "-uroot"]
    const dump = async (db: string) => {
      const r = await run("mariadb-dump", [...login, db], { timeoutMs: 30_000 })
      expect(r.stderr).toBe("")
      expect(r.code).toBe(0)
      return r.stdout
    }
    const original = await dump(DB)
    expect(original).toContain("CREATE TABLE `wp_posts` (\n  `ID` bigint unsigned NOT NULL AUTO_INCREMENT,\n")
    expect(original).toMatch(/^ {2}KEY `type_status_date` \(`post_type`,`post_status`,`post_date`,`ID`\),?$/m)
    const load = await run("mariadb", [...login, "-e", `CREATE DATABASE ${DB}_copy`], { timeoutMs: 10_000 })
    expect(load.stderr).toBe("")
    const loaded = await run("mariadb", [...login, `${DB}_copy`], { input: original, timeoutMs: 30_000 })
    expect(loaded.stderr).toBe("")
    expect(loaded.code).toBe(0)
    // the copy dumps the same, AUTO_INCREMENT=N included (header comments name the database)
    const body = (text: string) => text.split("\n").filter((l) => !l.startsWith("-- ")).join("\n")
    expect(body(await dump(`${DB}_copy`))).toBe(body(original))
  })

  it("logged no SQL error after the install", () => {
    expect(installLogEnd).toBeGreaterThan(0)
    expect(failures(installLogEnd)).toEqual([])
  })
})

// What GUI tools (DBeaver, Workbench, HeidiSQL, phpMyAdmin) read besides WordPress's queries.
describe("GUI-tool metadata", { timeout: 20_000 }, () => {
  const query = async (sql: string, database = "gui_e2e") => {
    const c = await mysql.createConnection({ host: server.host, port: server.port, user: "root", database })
    try {
      return (await c.query<Array<mysql.RowDataPacket>>(sql))[0]
    } finally {
      await c.end()
    }
  }

  it("foreign keys in SHOW CREATE TABLE, KEY_COLUMN_USAGE, TABLE_CONSTRAINTS and REFERENTIAL_CONSTRAINTS", async () => {
    const logFrom = server.output().length
    const c = await mysql.createConnection({ host: server.host, port: server.port, user: "root", multipleStatements: true })
    await c.query(
      `CREATE DATABASE gui_e2e; USE gui_e2e;
       CREATE TABLE p (id int AUTO_INCREMENT PRIMARY KEY, email varchar(50) UNIQUE);
       CREATE TABLE c (id int AUTO_INCREMENT PRIMARY KEY, p_id int NOT NULL, note text, KEY p_id (p_id),
         FOREIGN KEY (p_id) REFERENCES p (id) ON DELETE CASCADE)`
    )
    await c.end()
    const [create] = await query("SHOW CREATE TABLE c")
    expect(create!["Create Table"]).toBe(
      "CREATE TABLE `c` (\n  `id` bigint NOT NULL AUTO_INCREMENT,\n  `p_id` int NOT NULL,\n  `note` text,\n  PRIMARY KEY (`id`),\n  KEY `p_id` (`p_id`),\n" +
        "  CONSTRAINT `c_ibfk_1` FOREIGN KEY (`p_id`) REFERENCES `p` (`id`) ON DELETE CASCADE\n) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_general_ci"
    )
    const keys = await query(
      "SELECT TABLE_NAME, CONSTRAINT_NAME, COLUMN_NAME, REFERENCED_TABLE_NAME, REFERENCED_COLUMN_NAME FROM information_schema.KEY_COLUMN_USAGE WHERE TABLE_SCHEMA = 'gui_e2e' ORDER BY TABLE_NAME, CONSTRAINT_NAME"
    )
    expect(keys.map((r) => Object.values(r).join(" "))).toEqual(["c PRIMARY id  ", "c c_ibfk_1 p_id p id", "p PRIMARY id  ", "p email email  "])
    const cons = await query("SELECT TABLE_NAME, CONSTRAINT_NAME, CONSTRAINT_TYPE FROM information_schema.TABLE_CONSTRAINTS WHERE TABLE_SCHEMA = 'gui_e2e' ORDER BY 1, 2")
    expect(cons.map((r) => Object.values(r).join(" "))).toEqual(["c PRIMARY PRIMARY KEY", "c c_ibfk_1 FOREIGN KEY", "p PRIMARY PRIMARY KEY", "p email UNIQUE"])
    const refs = await query("SELECT CONSTRAINT_NAME, DELETE_RULE, UPDATE_RULE, REFERENCED_TABLE_NAME FROM information_schema.REFERENTIAL_CONSTRAINTS WHERE CONSTRAINT_SCHEMA = 'gui_e2e'")
    expect(refs.map((r) => Object.values(r).join(" "))).toEqual(["c_ibfk_1 CASCADE NO ACTION p"])
    expect(failures(logFrom)).toEqual([])
  })

  it("answers the SHOW statements and information_schema tables tools probe, without errors", async () => {
    const logFrom = server.output().length
    for (const sql of ["SHOW TRIGGERS", "SHOW EVENTS", "SHOW OPEN TABLES", "SHOW FUNCTION STATUS WHERE Db = 'gui_e2e'", "SHOW PROCEDURE STATUS WHERE Db = 'gui_e2e'", "SHOW MASTER STATUS", "SHOW REPLICA STATUS", "SHOW PRIVILEGES"]) {
      expect(await query(sql), sql).toEqual([])
    }
    expect((await query("SHOW PLUGINS")).map((r) => r["Name"])).toContain("mysql_native_password")
    expect(await query("SHOW ENGINES")).toMatchObject([{ Engine: "InnoDB", Support: "DEFAULT" }])
    expect(await query("SELECT ENGINE FROM information_schema.TABLES WHERE TABLE_SCHEMA = 'gui_e2e' AND TABLE_NAME = 'p'")).toEqual([{ ENGINE: "InnoDB" }])
    expect(await query("SELECT CHARACTER_SET_NAME FROM information_schema.CHARACTER_SETS WHERE CHARACTER_SET_NAME = 'utf8mb4'")).toHaveLength(1)
    expect(await query("SELECT COLLATION_NAME FROM information_schema.COLLATIONS WHERE IS_DEFAULT = 'Yes' AND CHARACTER_SET_NAME = 'utf8mb4'")).toEqual([{ COLLATION_NAME: "utf8mb4_general_ci" }])
    expect(await query("SELECT USER, DB FROM information_schema.PROCESSLIST")).toEqual([{ USER: "root", DB: "gui_e2e" }])
    for (const t of ["TRIGGERS", "ROUTINES", "EVENTS", "PARTITIONS", "FILES", "PLUGINS", "USER_PRIVILEGES", "SCHEMA_PRIVILEGES", "TABLE_PRIVILEGES", "COLUMN_PRIVILEGES"]) {
      expect(await query(`SELECT * FROM information_schema.${t}`), t).toEqual([])
    }
    expect((await query("SHOW FULL TABLES WHERE Table_type = 'BASE TABLE' AND Tables_in_gui_e2e LIKE 'p%'")).map((r) => Object.values(r))).toEqual([["p", "BASE TABLE"]])
    const inIs = await query("SHOW TABLES", "information_schema")
    expect(inIs.map((r) => Object.values(r)[0])).toEqual(expect.arrayContaining(["COLUMNS", "KEY_COLUMN_USAGE", "SCHEMATA", "STATISTICS", "TABLES"]))
    expect(await query("SELECT COUNT(*) AS n FROM TABLES WHERE TABLE_SCHEMA = 'gui_e2e'", "information_schema")).toEqual([{ n: 2 }])
    expect(failures(logFrom)).toEqual([])
  })
})
