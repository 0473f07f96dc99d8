<?php
// One step of the PHP mysqli e2e check; prints one JSON object on stdout.
// Usage: php mysqli_probe.php <port> <step>
// Every step reconnects, so a failing step does not poison the next one. mysqli throws
// mysqli_sql_exception (PHP >= 8.1 default report mode); each error is reported as code + SQLSTATE.

mysqli_report(MYSQLI_REPORT_ERROR | MYSQLI_REPORT_STRICT);

$port = (int)$argv[1];
$step = $argv[2];
const DB = 'e2e_php';

function conn(string $user = 'root', string $pass = '', ?string $db = DB): mysqli {
    global $port;
    $m = mysqli_init();
    // Typed results from the text protocol (int/float by column type), as most PHP apps configure.
    $m->options(MYSQLI_OPT_INT_AND_FLOAT_NATIVE, 1);
    $m->real_connect('127.0.0.1', $user, $pass, $db, $port);
    return $m;
}

function err(callable $f): array {
    try {
        $f();
        return ['code' => 0];
    } catch (mysqli_sql_exception $e) {
        return ['code' => $e->getCode(), 'sqlstate' => $e->getSqlState(), 'message' => $e->getMessage()];
    }
}

function rows(mysqli_result $r): array {
    $out = [];
    while ($row = $r->fetch_assoc()) {
        // JSON keeps PHP's types visible (int vs string vs float); binary goes as hex.
        if (array_key_exists('data', $row) && $row['data'] !== null) $row['data'] = ['hex' => bin2hex($row['data'])];
        $out[] = $row;
    }
    return $out;
}

$res = [];
switch ($step) {
case 'setup':
    $m = conn('root', '', null);
    $m->query('CREATE DATABASE ' . DB);
    $m->select_db(DB);
    $m->query('CREATE TABLE items (
        id INT NOT NULL AUTO_INCREMENT PRIMARY KEY,
        name VARCHAR(100) NOT NULL,
        qty INT,
        price DOUBLE,
        created DATETIME,
        data BLOB,
        big BIGINT,
        UNIQUE KEY uq_name (name))');
    $r = $m->query('SELECT 1 AS one');
    $res['one'] = $r->fetch_row()[0];
    break;

case 'insert':
    $m = conn();
    $m->query("INSERT INTO items (name, qty, price, created, data) VALUES ('apple', 3, 1.5, '2024-01-02 03:04:05', X'00FF10')");
    $res['id1'] = $m->insert_id;
    $res['affected1'] = $m->affected_rows;
    $m->query("INSERT INTO items (name, qty, price, created, data) VALUES ('pear', 7, -2.25, '1999-12-31 23:59:59', NULL)");
    $res['id2'] = $m->insert_id;
    $m->query("INSERT INTO items (name, qty, price) VALUES ('plum', 1, 0.5), ('fig', 2, 0.25)");
    $res['affected_multi'] = $m->affected_rows;
    $res['id_multi'] = $m->insert_id; // first id of the multi-row insert
    break;

case 'select':
    $m = conn();
    $r = $m->query('SELECT id, name, qty, price, created, data FROM items ORDER BY id');
    $res['rows'] = rows($r);
    $res['fields'] = array_map(fn($f) => ['name' => $f->name, 'type' => $f->type], $r->fetch_fields());
    break;

case 'update':
    $m = conn();
    $m->query("UPDATE items SET qty = qty + 10 WHERE name IN ('apple', 'pear')");
    $res['affected'] = $m->affected_rows;
    // No CLIENT_FOUND_ROWS: a row set to its current value is matched but not changed -> 0
    $m->query("UPDATE items SET qty = 13 WHERE name = 'apple'");
    $res['affected_same'] = $m->affected_rows;
    $m->query("UPDATE items SET qty = 0 WHERE name = 'nothing-here'");
    $res['affected_none'] = $m->affected_rows;
    $r = $m->query("SELECT qty FROM items WHERE name IN ('apple', 'pear') ORDER BY id");
    $res['qty'] = array_map(fn($x) => $x[0], $r->fetch_all());
    break;

case 'delete':
    $m = conn();
    $m->query("DELETE FROM items WHERE name IN ('plum', 'fig')");
    $res['affected'] = $m->affected_rows;
    $r = $m->query('SELECT COUNT(*) FROM items');
    $res['count'] = $r->fetch_row()[0];
    break;

case 'prepared':
    $m = conn();
    $st = $m->prepare('INSERT INTO items (name, qty, price, created, data, big) VALUES (?, ?, ?, ?, ?, ?)');
    $res['param_count'] = $st->param_count;
    $name = "kiwi 'quoted' \\ back"; $qty = null; $price = 3.125; $created = '2030-06-07 08:09:10';
    $data = "\x00\x01\xfe\xff"; $big = 9007199254740993;
    $st->bind_param('sidssi', $name, $qty, $price, $created, $data, $big);
    $st->execute();
    $res['insert_id'] = $st->insert_id;
    $res['affected'] = $st->affected_rows;
    // re-execute the same statement with other values
    $name = 'mango'; $qty = -5; $big = -9007199254740993; $data = '';
    $st->execute();
    $res['insert_id2'] = $st->insert_id;
    $st->close();

    $sel = $m->prepare('SELECT id, name, qty, price, created, data, big FROM items WHERE name = ? OR id = ? ORDER BY id');
    $n = "kiwi 'quoted' \\ back"; $id = -1;
    $sel->bind_param('si', $n, $id);
    $sel->execute();
    $rows = [];
    foreach ($sel->get_result()->fetch_all(MYSQLI_ASSOC) as $row) {
        $rows[] = [
            'name' => $row['name'],
            'qty' => $row['qty'],
            'qty_type' => gettype($row['qty']),
            'price' => $row['price'],
            'price_type' => gettype($row['price']),
            'created' => $row['created'],
            'data' => bin2hex($row['data']),
            'big' => (string)$row['big'],
            'big_type' => gettype($row['big']),
            'id_type' => gettype($row['id']),
        ];
    }
    $res['rows'] = $rows;
    $sel->close();

    $sel = $m->prepare('SELECT big FROM items WHERE name = ?');
    $n = 'mango';
    $sel->bind_param('s', $n);
    $sel->execute();
    $sel->bind_result($b);
    $sel->fetch();
    $res['mango_big'] = (string)$b;
    $sel->close();

    // COM_STMT_SEND_LONG_DATA: a 'b' parameter streamed in chunks
    $st = $m->prepare('UPDATE items SET data = ? WHERE name = ?');
    $null = null; $who = 'mango';
    $st->bind_param('bs', $null, $who);
    $st->send_long_data(0, str_repeat('ab', 1000));
    $st->send_long_data(0, str_repeat('cd', 1000));
    $st->execute();
    $res['long_data_affected'] = $st->affected_rows;
    $st->close();
    $r = $m->query("SELECT LENGTH(data), MD5(data) FROM items WHERE name = 'mango'");
    $row = $r->fetch_row();
    $res['long_data_len'] = $row[0];
    $res['long_data_md5'] = $row[1];
    $res['long_data_md5_expected'] = md5(str_repeat('ab', 1000) . str_repeat('cd', 1000));
    break;

case 'transactions':
    $a = conn();
    $b = conn();
    $count = fn() => $b->query("SELECT COUNT(*) FROM items WHERE name LIKE 'tx-%'")->fetch_row()[0];
    $res['start'] = $count();
    $a->autocommit(false);
    $a->query("INSERT INTO items (name, qty) VALUES ('tx-1', 1)");
    $res['other_before_commit'] = $count();
    $res['self_before_commit'] = $a->query("SELECT COUNT(*) FROM items WHERE name LIKE 'tx-%'")->fetch_row()[0];
    $a->commit();
    $res['other_after_commit'] = $count();
    $a->query("INSERT INTO items (name, qty) VALUES ('tx-2', 2)");
    $a->rollback();
    $res['other_after_rollback'] = $count();
    $a->autocommit(true);
    $a->begin_transaction();
    $a->query("INSERT INTO items (name, qty) VALUES ('tx-3', 3)");
    $res['other_in_begin'] = $count();
    $a->rollback();
    $res['other_after_begin_rollback'] = $count();
    $a->begin_transaction();
    $a->query("UPDATE items SET qty = 100 WHERE name = 'tx-1'");
    $a->commit();
    $res['tx1_qty'] = $b->query("SELECT qty FROM items WHERE name = 'tx-1'")->fetch_row()[0];
    break;

case 'errors':
    $m = conn();
    $res['missing_table'] = err(fn() => $m->query('SELECT * FROM no_such_table'));
    $res['syntax'] = err(fn() => $m->query('SELEC 1'));
    $res['duplicate'] = err(fn() => $m->query("INSERT INTO items (name) VALUES ('apple')"));
    $res['still_works'] = $m->query('SELECT 41 + 1')->fetch_row()[0];
    $res['unknown_db_connect'] = err(fn() => conn('root', '', 'no_such_db_php'));
    $res['unknown_db_select'] = err(fn() => $m->select_db('no_such_db_php'));
    $res['prepare_missing_table'] = err(fn() => $m->prepare('SELECT * FROM no_such_table WHERE id = ?'));
    $res['wrong_password'] = err(fn() => conn('app', 'wrong', null));
    $res['no_such_user'] = err(fn() => conn('nobody', 'x', null));
    $ok = conn('app', 's3cret', DB);
    $res['app_select'] = $ok->query('SELECT COUNT(*) FROM items')->fetch_row()[0] > 0;
    break;

default:
    fwrite(STDERR, "unknown step $step\n");
    exit(2);
}
echo json_encode($res), "\n";
