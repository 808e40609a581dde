#!/usr/bin/env python3
"""Python interop suite: the PyPI client `rocketmq` 0.4.4 against our servers.

That wheel bundles librocketmq, the official C++ core (rocketmq-client-cpp), which is also the
core of the Node.js and cgo Go clients. Its wire shapes differ from the Java client's (spec
section 21): the HEART_BEAT body carries enum ordinals, `subVersion` as a string and leaves out
empty fields, so this suite is what proves the broker reads bodies as 4.8.0's fastjson does.

Checks, each on its own topic (created by run.sh with our mqadmin):
  1. sync send with keys and tags: every send is SEND_OK with a distinct message id;
  2. push consume: a group subscribed to `TagA` gets exactly the TagA messages (topic, tags,
     keys, body, message id), a group subscribed to `*` gets all of them;
  3. orderly: messages sent with send_orderly (sharding key -> queue) arrive at an orderly
     push consumer in send order per key, each key on one queue;
  4. delay level: a message sent with a delay level is stored and delivered no earlier than
     the level's delay and not much later.

Usage: interop.py NAMESRV PLAIN_TOPIC ORDER_TOPIC DELAY_TOPIC DELAY_LEVELS
(an empty DELAY_LEVELS skips check 4). Exits 1 at the first failed check. Run by interop/run.sh inside its own venv.
"""

import os
import sys
import threading
import time

from rocketmq.client import Message, Producer, PushConsumer

RUN = "%d" % (time.time() * 1000)
START = time.time()


def log(text):
    print("[python %5.1fs] %s" % (time.time() - START, text), flush=True)


def fail(text):
    log("FAIL: " + text)
    sys.stdout.flush()
    os._exit(1)


def check(cond, text):
    if not cond:
        fail(text)


def text(value):
    return value.decode("utf-8") if isinstance(value, bytes) else value


class Inbox:
    """What a push consumer received, guarded for the client's callback threads."""

    def __init__(self):
        self.lock = threading.Lock()
        self.msgs = []

    def __call__(self, msg):
        item = {
            "topic": text(msg.topic),
            "tags": text(msg.tags),
            "keys": text(msg.keys),
            "body": text(msg.body),
            "id": text(msg.id),
            "queue_id": msg.queue_id,
            "queue_offset": msg.queue_offset,
            "born": msg.born_timestamp,
            "stored": msg.store_timestamp,
            "arrived": int(time.time() * 1000),
        }
        with self.lock:
            self.msgs.append(item)

    def snapshot(self):
        with self.lock:
            return list(self.msgs)

    def wait(self, n, timeout_s):
        deadline = time.time() + timeout_s
        while time.time() < deadline:
            if len(self.snapshot()) >= n:
                return self.snapshot()
            time.sleep(0.1)
        return self.snapshot()


def consumer(ns, group, topic, expression, inbox, orderly=False):
    c = PushConsumer(group, orderly=orderly)
    c.set_namesrv_addr(ns)
    c.set_instance_name(group)
    c.subscribe(topic, inbox, expression)
    c.start()
    return c


def message(topic, tags, keys, body, delay_level=None):
    m = Message(topic)
    m.set_tags(tags)
    m.set_keys(keys)
    m.set_body(body)
    if delay_level:
        m.set_delay_time_level(delay_level)
    return m


def check_send_and_consume(ns, producer, topic):
    tag_a = Inbox()
    everything = Inbox()
    consumers = [
        consumer(ns, "py_cg_tags_" + RUN, topic, "TagA", tag_a),
        consumer(ns, "py_cg_all_" + RUN, topic, "*", everything),
    ]
    sent = {}
    for i in range(8):
        tags = "TagA" if i % 2 == 0 else "TagB"
        keys = "py-key-%d-%s" % (i, RUN)
        body = "py-body-%d-%s" % (i, RUN)
        r = producer.send_sync(message(topic, tags, keys, body))
        check(int(r.status) == 0, "send %d: status %s" % (i, r.status))
        check(r.msg_id, "send %d: no message id" % i)
        sent[body] = {"tags": tags, "keys": keys, "id": r.msg_id}
    check(len({s["id"] for s in sent.values()}) == 8, "message ids are not distinct")
    log("1. sync send: 8 x SEND_OK with keys and tags")

    want_a = {b for b, s in sent.items() if s["tags"] == "TagA"}
    got_a = tag_a.wait(len(want_a), 30)
    got_all = everything.wait(len(sent), 30)
    time.sleep(1.0)  # anything extra (a TagB for the TagA group, a duplicate) shows up now
    got_a, got_all = tag_a.snapshot(), everything.snapshot()
    check(sorted(m["body"] for m in got_a) == sorted(want_a),
          "TagA group got %s, want %s" % (sorted(m["body"] for m in got_a), sorted(want_a)))
    check(sorted(m["body"] for m in got_all) == sorted(sent),
          "* group got %d of %d: %s" % (len(got_all), len(sent), sorted(m["body"] for m in got_all)))
    for m in got_a + got_all:
        s = sent[m["body"]]
        check(m["topic"] == topic, "received topic %r" % m["topic"])
        check(m["tags"] == s["tags"], "%s: tags %r, sent %r" % (m["body"], m["tags"], s["tags"]))
        check(m["keys"] == s["keys"], "%s: keys %r, sent %r" % (m["body"], m["keys"], s["keys"]))
        check(m["id"] == s["id"], "%s: id %r, send result said %r" % (m["body"], m["id"], s["id"]))
    log("2. push consume: TagA group got exactly the %d TagA messages, * group all %d"
        % (len(got_a), len(got_all)))
    for c in consumers:
        c.shutdown()


def check_orderly(ns, producer, topic):
    inbox = Inbox()
    c = consumer(ns, "py_cg_order_" + RUN, topic, "*", inbox, orderly=True)
    keys, per_key = 3, 10
    queue_of = {}
    for seq in range(per_key):
        for k in range(keys):
            body = "order-k%d-%02d" % (k, seq)
            r = producer.send_orderly(message(topic, "TagO", "k%d" % k, body), k)
            check(int(r.status) == 0, "orderly send %s: %s" % (body, r.status))
    got = inbox.wait(keys * per_key, 40)
    time.sleep(0.5)
    got = inbox.snapshot()
    check(len(got) == keys * per_key, "orderly: got %d of %d" % (len(got), keys * per_key))
    for k in range(keys):
        mine = [m for m in got if m["keys"] == "k%d" % k]
        bodies = [m["body"] for m in mine]
        want = ["order-k%d-%02d" % (k, seq) for seq in range(per_key)]
        check(bodies == want, "key k%d arrived as %s" % (k, bodies))
        queues = {m["queue_id"] for m in mine}
        check(len(queues) == 1, "key k%d spread over queues %s" % (k, queues))
        offsets = [m["queue_offset"] for m in mine]
        check(offsets == sorted(offsets), "key k%d queue offsets %s" % (k, offsets))
        queue_of[k] = queues.pop()
    log("3. orderly: %d keys x %d messages in order, queues %s" % (keys, per_key, queue_of))
    c.shutdown()


def check_delay(ns, producer, topic, levels):
    level = 4 if len(levels) >= 4 and levels[3] <= 5000 else 1
    delay_ms = levels[level - 1]
    inbox = Inbox()
    c = consumer(ns, "py_cg_delay_" + RUN, topic, "*", inbox)
    time.sleep(1.0)  # let the consumer find its queues, so arrival time is measured well
    body = "delayed-" + RUN
    r = producer.send_sync(message(topic, "TagD", "delay-key", body, delay_level=level))
    check(int(r.status) == 0, "delayed send: %s" % r.status)
    got = inbox.wait(1, delay_ms / 1000.0 + 30)
    check(len(got) == 1 and got[0]["body"] == body, "delayed message: got %s" % got)
    m = got[0]
    stored_after = m["stored"] - m["born"]
    arrived_after = m["arrived"] - m["born"]
    check(stored_after >= delay_ms,
          "level %d (%d ms): stored %d ms after born, too early" % (level, delay_ms, stored_after))
    check(arrived_after <= delay_ms + 3000,
          "level %d (%d ms): arrived %d ms after born, too late" % (level, delay_ms, arrived_after))
    log("4. delay level %d (%d ms): stored after %d ms, arrived after %d ms"
        % (level, delay_ms, stored_after, arrived_after))
    c.shutdown()


def parse_levels(text):
    unit = {"s": 1000, "m": 60000, "h": 3600000, "d": 86400000}
    return [int(t[:-1]) * unit[t[-1]] for t in text.split()]


def main():
    if len(sys.argv) != 6:
        fail("usage: interop.py NAMESRV PLAIN_TOPIC ORDER_TOPIC DELAY_TOPIC DELAY_LEVELS")
    ns, plain, ordered, delayed, levels = sys.argv[1:]
    producer = Producer("py_pg_" + RUN)
    producer.set_namesrv_addr(ns)
    producer.start()
    check_send_and_consume(ns, producer, plain)
    check_orderly(ns, producer, ordered)
    if levels.strip():
        check_delay(ns, producer, delayed, parse_levels(levels))
    else:
        log("4. delay level: skipped (no delay levels given: INTEROP_SCHEDULE=0)")
    producer.shutdown()
    log("all checks passed")
    sys.stdout.flush()
    # The C++ core's destructors can abort at interpreter exit; everything is checked by now.
    os._exit(0)


if __name__ == "__main__":
    main()
