"""One step of the Python pymysql e2e check; prints one JSON object on stdout.

Usage: /usr/bin/python3 pymysql_probe.py <port> <step>
pymysql interpolates parameters on the client (%s), escaping with backslashes, so the server sees
plain COM_QUERY text: string literals with \\' and \\\\, _binary'...' for bytes, 1.5e0 for floats.
"""
import datetime
import json
import sys

import pymysql

PORT = int(sys.argv[1])
STEP = sys.argv[2]
DB = "e2e_py"
TRICKY = "it's a \"quoted\" \\ back\\slash \\n not-a-newline; -- not a comment /* nor this */ é ✓"


def conn(user="root", password="", db=DB, autocommit=False):
    return pymysql.connect(host="127.0.0.1", port=PORT, user=user, password=password,
                           database=db, autocommit=autocommit, charset="utf8mb4",
                           connect_timeout=10, read_timeout=30, write_timeout=30)


def err(f):
    try:
        f()
        return {"code": 0}
    except pymysql.MySQLError as e:
        return {"code": e.args[0], "class": type(e).__name__, "message": e.args[1] if len(e.args) > 1 else ""}


def enc(v):
    """JSON-able with the Python type kept visible."""
    if isinstance(v, (bytes, bytearray)):
        return {"bytes": bytes(v).hex()}
    if isinstance(v, datetime.datetime):
        return {"datetime": v.isoformat(sep=" ")}
    if isinstance(v, bool):
        return {"bool": v}
    if isinstance(v, int):
        return {"int": str(v)}
    if isinstance(v, float):
        return {"float": repr(v)}
    if v is None or isinstance(v, str):
        return v
    return {type(v).__name__: str(v)}


def main():
    res = {}
    if STEP == "setup":
        c = conn(db=None)
        with c.cursor() as cur:
            cur.execute("CREATE DATABASE " + DB)
            c.select_db(DB)
            cur.execute("""CREATE TABLE items (
                id INT NOT NULL AUTO_INCREMENT PRIMARY KEY,
                name VARCHAR(200) NOT NULL,
                qty INT,
                price DOUBLE,
                created DATETIME,
                data BLOB,
                big BIGINT,
                UNIQUE KEY uq_name (name))""")
            cur.execute("SELECT 1")
            res["one"] = cur.fetchone()[0]
        c.commit()

    elif STEP == "insert":
        c = conn()
        with c.cursor() as cur:
            res["rowcount1"] = cur.execute(
                "INSERT INTO items (name, qty, price, created, data, big) VALUES (%s, %s, %s, %s, %s, %s)",
                (TRICKY, 3, 1.5, datetime.datetime(2024, 1, 2, 3, 4, 5), b"\x00'\\\xff\"", 9007199254740993))
            res["lastrowid1"] = cur.lastrowid
            res["rowcount2"] = cur.execute(
                "INSERT INTO items (name, qty, price, created, data, big) VALUES (%s, %s, %s, %s, %s, %s)",
                ("pear", None, -2.25, None, None, -9007199254740993))
            res["lastrowid2"] = cur.lastrowid
            res["rowcount_many"] = cur.executemany(
                "INSERT INTO items (name, qty, price) VALUES (%s, %s, %s)",
                [("plum", 1, 0.5), ("fig", 2, 0.25), ("date", 4, 1e-3)])
        c.commit()

    elif STEP == "select":
        c = conn()
        with c.cursor() as cur:
            cur.execute("SELECT id, name, qty, price, created, data, big FROM items ORDER BY id")
            res["columns"] = [d[0] for d in cur.description]
            res["rows"] = [[enc(v) for v in row] for row in cur.fetchall()]
            cur.execute("SELECT id FROM items WHERE name = %s", (TRICKY,))
            res["by_tricky_name"] = [enc(r[0]) for r in cur.fetchall()]
            res["tricky_roundtrip"] = res["rows"][0][1] == TRICKY
        c.commit()

    elif STEP == "update":
        c = conn()
        with c.cursor() as cur:
            res["rowcount"] = cur.execute("UPDATE items SET qty = COALESCE(qty, 0) + %s WHERE name IN (%s, %s)",
                                          (10, TRICKY, "pear"))
            res["rowcount_none"] = cur.execute("UPDATE items SET qty = 0 WHERE name = %s", ("nothing",))
            cur.execute("SELECT qty FROM items WHERE name IN (%s, %s) ORDER BY id", (TRICKY, "pear"))
            res["qty"] = [enc(r[0]) for r in cur.fetchall()]
        c.commit()

    elif STEP == "delete":
        c = conn()
        with c.cursor() as cur:
            res["rowcount"] = cur.execute("DELETE FROM items WHERE name IN %s", (("plum", "fig", "date"),))
            cur.execute("SELECT COUNT(*) FROM items")
            res["count"] = enc(cur.fetchone()[0])
        c.commit()

    elif STEP == "transactions":
        a = conn()  # autocommit off (pymysql's default)
        b = conn(autocommit=True)

        def count():
            with b.cursor() as cur:
                cur.execute("SELECT COUNT(*) FROM items WHERE name LIKE %s", ("tx-%",))
                return cur.fetchone()[0]

        res["start"] = count()
        with a.cursor() as cur:
            cur.execute("INSERT INTO items (name, qty) VALUES (%s, %s)", ("tx-1", 1))
            res["other_before_commit"] = count()
            a.commit()
            res["other_after_commit"] = count()
            cur.execute("INSERT INTO items (name, qty) VALUES (%s, %s)", ("tx-2", 2))
            cur.execute("UPDATE items SET qty = 99 WHERE name = %s", ("tx-1",))
            a.rollback()
            res["other_after_rollback"] = count()
            cur.execute("SELECT qty FROM items WHERE name = %s", ("tx-1",))
            res["tx1_qty"] = cur.fetchone()[0]
            a.begin()
            cur.execute("DELETE FROM items WHERE name = %s", ("tx-1",))
            res["other_during_delete"] = count()
            a.commit()
            res["other_after_delete"] = count()

    elif STEP == "errors":
        c = conn()

        def q(sql, args=None):
            with c.cursor() as cur:
                cur.execute(sql, args)

        res["missing_table"] = err(lambda: q("SELECT * FROM no_such_table"))
        res["syntax"] = err(lambda: q("SELEC 1"))
        res["duplicate"] = err(lambda: q("INSERT INTO items (name) VALUES (%s)", ("pear",)))
        with c.cursor() as cur:
            cur.execute("SELECT %s + 1", (41,))
            res["still_works"] = cur.fetchone()[0]
        res["unknown_db"] = err(lambda: conn(db="no_such_db_py"))
        res["wrong_password"] = err(lambda: conn(user="app", password="wrong", db=None))
        ok = conn(user="app", password="s3cret", db=DB)
        with ok.cursor() as cur:
            cur.execute("SELECT COUNT(*) FROM items")
            res["app_count"] = cur.fetchone()[0]

    else:
        print("unknown step " + STEP, file=sys.stderr)
        sys.exit(2)
    print(json.dumps(res))


main()
