/*
 * Delayed messages across a broker restart (Java half; go/main.go -restart-topic is the Go half).
 * run.sh drives the handshake through files in <syncDir>:
 *
 *   java.ready   (this program)  consumer running and warmed up, producer started
 *   send         (run.sh)        send now
 *   java.sent    (this program)  delayed messages are in SCHEDULE_TOPIC_XXXX
 *   restarted    (run.sh)        "<downMs> <backMs>": SIGTERM sent / new broker booted (epoch ms)
 *
 * Two push consumer groups read the topic:
 *  - "live" runs through the restart. Its long polls were parked on the old broker's connection,
 *    and a 4.8.0 client does not fail them when the connection closes: it waits out the pull's
 *    30 s timeout before it pulls again. So its deliveries are checked for exactly-once (no
 *    message lost or duplicated by the restart; its offsets survive it) and for the time the
 *    broker put each message back on the topic (the stored record's storeTimestamp), not for
 *    its own arrival times;
 *  - "fresh" starts right after the broker is back, from the first offset, and its arrival
 *    times are checked.
 * Not early: storeTimestamp and arrival >= born + delay. Not late: at most LATE_MS after the due
 * time, or, when the due time fell into the downtime, after back + 1 s (the delivery loops start
 * 1 s after boot). The topic's queues must hold exactly what was sent.
 *
 * Usage: java interop.RestartDelay <namesrvAddr> <clusterName> <brokerName> <brokerAddr> <syncDir>
 */
package interop;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.Paths;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import org.apache.rocketmq.client.consumer.DefaultMQPushConsumer;
import org.apache.rocketmq.client.producer.DefaultMQProducer;
import org.apache.rocketmq.common.message.Message;

public final class RestartDelay {
    private RestartDelay() {
    }

    public static void main(String[] args) {
        if (args.length != 5) {
            System.err.println("usage: RestartDelay <namesrvAddr> <clusterName> <brokerName> <brokerAddr> <syncDir>");
            System.exit(2);
        }
        int status = 0;
        try {
            run(args[0], args[1], args[2], args[3], Paths.get(args[4]));
            System.out.println("java restart: all checks passed");
        } catch (Throwable t) {
            System.out.println("java restart: FAILED");
            t.printStackTrace(System.out);
            status = 1;
        }
        System.exit(status);
    }

    static void touch(Path p, String text) throws Exception {
        Path tmp = Paths.get(p + ".tmp");
        Files.write(tmp, text.getBytes(StandardCharsets.UTF_8));
        Files.move(tmp, p);
    }

    static String waitFile(Path p, int seconds) throws Exception {
        Schedule.await(() -> "run.sh never wrote " + p, seconds, () -> Files.exists(p));
        return new String(Files.readAllBytes(p), StandardCharsets.UTF_8).trim();
    }

    static void run(String ns, String cluster, String brokerName, String brokerAddr, Path sync) throws Exception {
        String runId = Long.toString(System.currentTimeMillis(), 36);
        String topic = "InteropRestart_" + runId;
        MqAdmin.createTopic(ns, cluster, brokerAddr, topic);
        Schedule.Arrivals arrivals = new Schedule.Arrivals();
        DefaultMQPushConsumer c = Schedule.pushConsumer(ns, "interop_cg_restart_live_" + runId, topic);
        c.setHeartbeatBrokerInterval(1000); // the restarted broker learns the group within 1 s
        c.setPersistConsumerOffsetInterval(1000);
        c.registerMessageListener(arrivals);
        c.start();
        Schedule.Arrivals fresh = new Schedule.Arrivals();
        DefaultMQPushConsumer f = null;
        DefaultMQProducer p = Schedule.producer(ns, "interop_pg_restart_" + runId);
        Map<String, Integer> levelOf = new TreeMap<>();
        long back;
        long down;
        try {
            Schedule.warmUp(p, topic, arrivals, "restart-warm-" + runId);
            touch(sync.resolve("java.ready"), "ready");
            waitFile(sync.resolve("send"), 120);
            for (int i = 0; i < 3; i++) {
                for (int level : new int[] {3, 1}) {
                    String body = "restart-" + runId + "-L" + level + "-" + i;
                    Message m = new Message(topic, "L" + level, body.getBytes(StandardCharsets.UTF_8));
                    m.setDelayTimeLevel(level);
                    Schedule.sendOk(p, m);
                    levelOf.put(body, level);
                }
            }
            touch(sync.resolve("java.sent"), "sent");
            String[] times = waitFile(sync.resolve("restarted"), 120).split("\\s+");
            down = Long.parseLong(times[0]);
            back = Long.parseLong(times[1]);
            f = Schedule.pushConsumer(ns, "interop_cg_restart_fresh_" + runId, topic);
            f.registerMessageListener(fresh);
            f.start();
            await("fresh", fresh, levelOf, 30);
            await("live", arrivals, levelOf, 60);
            Thread.sleep(3000); // a re-delivery after the restart would show up by now
        } finally {
            p.shutdown();
            c.shutdown();
            if (f != null) {
                f.shutdown();
            }
        }
        StringBuilder sb = new StringBuilder();
        long liveMax = 0;
        for (Map.Entry<String, Integer> e : levelOf.entrySet()) {
            String body = e.getKey();
            List<Schedule.Arrival> live = arrivals.byBody.get(body);
            List<Schedule.Arrival> got = fresh.byBody.get(body);
            Check.that(live.size() == 1, "restart: " + body + " delivered " + live.size() + " times to the live group");
            Check.that(got.size() == 1, "restart: " + body + " delivered " + got.size() + " times to the fresh group");
            Schedule.Arrival a = got.get(0);
            long delay = Schedule.delayOf(e.getValue());
            long due = a.msg.getBornTimestamp() + delay;
            boolean inDowntime = due >= down - Schedule.LATE_MS && due < back + 1000;
            long latest = (inDowntime ? back + 1000 : due) + Schedule.LATE_MS;
            String what = "restart: " + body + " (level " + e.getValue() + ", due " + (due - down)
                + " ms after SIGTERM, broker back after " + (back - down) + " ms)";
            long stored = a.msg.getStoreTimestamp();
            Check.that(stored >= due, what + " put back " + (due - stored) + " ms early");
            Check.that(stored <= latest, what + " put back " + (stored - due) + " ms after due, allowed " + (latest - due));
            Check.that(live.get(0).msg.getStoreTimestamp() == stored, what + ": the groups saw different records");
            Check.that(a.at >= due, what + " arrived " + (due - a.at) + " ms early");
            Check.that(a.at <= latest, what + " arrived " + (a.at - due) + " ms after due, allowed " + (latest - due));
            sb.append(String.format(" L%d%s:+%d", e.getValue(), inDowntime ? "(due while down)" : "", a.at - due));
            liveMax = Math.max(liveMax, live.get(0).at - due);
        }
        long stored = Schedule.maxOffsetSumOf(ns, topic, brokerName);
        Check.that(stored == levelOf.size() + 1, "restart: " + topic + " holds " + stored + " messages, sent "
            + (levelOf.size() + 1) + " (1 warm-up)");
        Check.ok("restart (broker down " + (back - down) + " ms): " + levelOf.size()
            + " delayed messages (levels 1 and 3) stored once each on " + topic + ", none early;"
            + " group started after the restart got each once, ms after due:" + sb);
        Check.ok("restart: the group that lived through the restart got each message once too, the last "
            + liveMax + " ms after due (4.8.0 client: parked pulls wait out their 30 s timeout)");
    }

    private static void await(String group, Schedule.Arrivals arrivals, Map<String, Integer> levelOf, int seconds)
        throws Exception {
        Schedule.await(() -> "restart: " + levelOf.keySet().stream().filter(arrivals.byBody::containsKey).count()
            + " of " + levelOf.size() + " delayed messages reached the " + group + " group", seconds,
            () -> arrivals.byBody.keySet().containsAll(levelOf.keySet()));
    }
}
