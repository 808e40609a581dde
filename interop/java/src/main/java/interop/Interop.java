/*
 * Entry point of the Java interop suite (see interop/README.md): the official RocketMQ 4.8.0
 * mqadmin and client library against our mqnamesrv/mqbroker.
 *
 * Usage: java interop.Interop <namesrvAddr> <clusterName> <brokerName> <brokerAddr>
 * Exit status 0 when every check passed, 1 otherwise.
 */
package interop;

import java.util.ArrayList;
import java.util.List;
import org.apache.rocketmq.client.consumer.DefaultMQPushConsumer;

public final class Interop {
    private Interop() {
    }

    public static void main(String[] args) {
        if (args.length != 4) {
            System.err.println("usage: Interop <namesrvAddr> <clusterName> <brokerName> <brokerAddr>");
            System.exit(2);
        }
        int status = 0;
        try {
            run(args[0], args[1], args[2], args[3]);
            System.out.println("java interop: all checks passed");
        } catch (Throwable t) {
            System.out.println("java interop: FAILED");
            t.printStackTrace(System.out);
            status = 1;
        }
        // Client libraries leave non-daemon threads behind; leave explicitly.
        System.exit(status);
    }

    static void run(String ns, String cluster, String brokerName, String brokerAddr) throws Exception {
        String runId = Long.toString(System.currentTimeMillis(), 36);
        String topic = "InteropJava_" + runId;
        String group = "interop_cg_all_" + runId;

        // a. mqadmin: cluster, topic creation, route.
        String clusters = MqAdmin.waitFor("mqadmin clusterList", brokerAddr, 30, "clusterList", "-n", ns);
        Check.contains(clusters, cluster, "clusterList");
        Check.contains(clusters, brokerName, "clusterList");
        Check.ok("mqadmin clusterList lists " + cluster + " / " + brokerName + " / " + brokerAddr);

        String created = MqAdmin.ok("updateTopic", "-n", ns, "-c", cluster, "-t", topic, "-r", "4", "-w", "4");
        Check.contains(created, "create topic to " + brokerAddr + " success", "updateTopic -c");
        Check.ok("mqadmin updateTopic -c " + cluster + " -t " + topic + " -r 4 -w 4");

        String route = MqAdmin.waitFor("mqadmin topicRoute", brokerName, 30, "topicRoute", "-n", ns, "-t", topic);
        Check.contains(route, "\"readQueueNums\":4", "topicRoute");
        Check.contains(route, "\"writeQueueNums\":4", "topicRoute");
        Check.contains(route, brokerAddr, "topicRoute");
        Check.ok("mqadmin topicRoute shows 4/4 queues on " + brokerName);

        Check.contains(MqAdmin.ok("topicList", "-n", ns), topic, "topicList");
        Check.ok("mqadmin topicList lists " + topic);

        // b. producer in every send mode.
        Traffic traffic = new Traffic(ns, topic, runId);
        traffic.produce();

        // a. topicStatus after the sends: 4 queues whose max offsets add up to what was sent.
        int total = traffic.sent.size();
        long deadline = System.currentTimeMillis() + 20_000;
        long sum;
        List<String> rows;
        String status;
        do {
            status = MqAdmin.ok("topicStatus", "-n", ns, "-t", topic);
            rows = new ArrayList<>();
            sum = 0;
            for (String line : status.split("\n")) {
                String[] f = line.trim().split("\\s+");
                if (f.length >= 4 && f[0].equals(brokerName)) {
                    rows.add(line);
                    sum += Long.parseLong(f[3]);
                }
            }
            if (sum == total) {
                break;
            }
            Thread.sleep(300); // oneway sends may still be in flight
        } while (System.currentTimeMillis() < deadline);
        Check.that(rows.size() == 4, "topicStatus: expected 4 queue rows, got:\n" + status);
        Check.that(sum == total, "topicStatus: max offsets add up to " + sum + ", sent " + total + ":\n" + status);
        Check.ok("mqadmin topicStatus: 4 queues, max offsets sum to " + total);

        // b. push consumers: everything, then a tag-filtered group.
        DefaultMQPushConsumer all = traffic.consume(group, "*", 60);
        DefaultMQPushConsumer tagged = traffic.consume("interop_cg_tagA_" + runId, "TagA", 60);
        try {
            // a. consumerProgress once the consumer has committed its offsets.
            String progress = MqAdmin.waitFor("mqadmin consumerProgress", "Diff Total: 0", 30,
                "consumerProgress", "-n", ns, "-g", group);
            Check.contains(progress, topic, "consumerProgress");
            Check.ok("mqadmin consumerProgress -g " + group + ": all 4 queues consumed, Diff Total: 0");

            String conns = MqAdmin.ok("consumerConnection", "-n", ns, "-g", group);
            Check.contains(conns, "JAVA", "consumerConnection");
            Check.contains(conns, topic, "consumerConnection");
            Check.contains(conns, "CONSUME_PASSIVELY", "consumerConnection");
            Check.ok("mqadmin consumerConnection -g " + group);
        } finally {
            all.shutdown();
            tagged.shutdown();
        }

        // Deeper checks.
        ClientOps.bigMessage(ns, cluster, runId);
        Extras.queries(ns, traffic);
        Extras.orderly(ns, traffic, "interop_cg_orderly_" + runId);
        Extras.resume(ns, topic, runId, group);
        if (Boolean.getBoolean("interop.schedule")) {
            Extras.retry(ns, cluster, brokerAddr, runId);
            Schedule.levels(ns, cluster, brokerAddr, runId);
            Schedule.dlq(ns, cluster, brokerName, brokerAddr, runId);
        } else {
            System.out.println("  skip retry (RECONSUME_LATER), delay-level and DLQ checks: they need the broker's"
                + " schedule service; run with INTEROP_SCHEDULE=1");
        }
    }
}
