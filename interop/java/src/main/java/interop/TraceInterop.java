/*
 * The trace suite (see interop/README.md): message trace between the official 4.8.0 client and
 * ours, through our broker.
 *  1. A Java DefaultMQProducer and DefaultMQPushConsumer with enableMsgTrace=true: our mqadmin
 *     QueryMsgTraceById shows the Pub row (the producer group) and a Sub row (the consumer group).
 *  2. Our rmq-example produce --trace and consume --trace: the real 4.8.0 mqadmin
 *     QueryMsgTraceById decodes our trace lines and shows the same rows for our groups.
 *
 * Usage: java interop.TraceInterop <namesrvAddr> <clusterName> <our mqadmin> <rmq-example>
 */
package interop;

import java.io.BufferedReader;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import org.apache.rocketmq.client.consumer.DefaultMQPushConsumer;
import org.apache.rocketmq.client.consumer.listener.ConsumeConcurrentlyStatus;
import org.apache.rocketmq.client.consumer.listener.MessageListenerConcurrently;
import org.apache.rocketmq.client.producer.DefaultMQProducer;
import org.apache.rocketmq.client.producer.SendResult;
import org.apache.rocketmq.common.consumer.ConsumeFromWhere;
import org.apache.rocketmq.common.message.Message;
import org.apache.rocketmq.common.message.MessageExt;

public final class TraceInterop {
    private TraceInterop() {
    }

    public static void main(String[] args) {
        if (args.length != 4) {
            System.err.println("usage: TraceInterop <namesrvAddr> <clusterName> <mqadmin> <rmq-example>");
            System.exit(2);
        }
        int status = 0;
        try {
            run(args[0], args[1], args[2], args[3]);
            System.out.println("trace interop: all checks passed");
        } catch (Throwable t) {
            System.out.println("trace interop: FAILED");
            t.printStackTrace(System.out);
            status = 1;
        } finally {
            ReplyInterop.Child.killAll();
        }
        System.exit(status);
    }

    /** Runs our mqadmin and returns what it printed (stdout and stderr). */
    static String ours(String mqadmin, String... args) throws Exception {
        String[] cmd = new String[args.length + 1];
        cmd[0] = mqadmin;
        System.arraycopy(args, 0, cmd, 1, args.length);
        ProcessBuilder pb = new ProcessBuilder(cmd);
        pb.redirectErrorStream(true);
        pb.environment().put("RUST_LOG", "warn");
        Process p = pb.start();
        StringBuilder sb = new StringBuilder();
        try (BufferedReader r = new BufferedReader(new InputStreamReader(p.getInputStream(), StandardCharsets.UTF_8))) {
            String line;
            while ((line = r.readLine()) != null) {
                sb.append(line).append('\n');
            }
        }
        p.waitFor(30, TimeUnit.SECONDS);
        return sb.toString();
    }

    /** A row of QueryMsgTraceById output: type, group, ..., status. */
    static boolean hasRow(String out, String type, String group) {
        for (String line : out.split("\n")) {
            String[] f = line.trim().split("\\s+");
            if (f.length >= 6 && f[0].equals(type) && f[1].equals(group) && f[f.length - 1].equals("success")) {
                return true;
            }
        }
        return false;
    }

    static void run(String ns, String cluster, String mqadmin, String example) throws Exception {
        String runId = Long.toString(System.currentTimeMillis(), 36);
        String topic = "InteropTrace_" + runId;
        MqAdmin.ok("updateTopic", "-n", ns, "-c", cluster, "-t", topic, "-r", "2", "-w", "2");
        MqAdmin.waitFor("mqadmin topicRoute", "\"writeQueueNums\":2", 30, "topicRoute", "-n", ns, "-t", topic);

        // 1. Java client with tracing on -> our mqadmin.
        String javaPg = "interop_pg_trace_" + runId;
        String javaCg = "interop_cg_trace_" + runId;
        DefaultMQProducer producer = new DefaultMQProducer(javaPg, true);
        producer.setNamesrvAddr(ns);
        producer.setInstanceName("trace-p-" + runId);
        producer.start();
        CountDownLatch got = new CountDownLatch(1);
        DefaultMQPushConsumer consumer = new DefaultMQPushConsumer(javaCg, true);
        consumer.setNamesrvAddr(ns);
        consumer.setInstanceName("trace-c-" + runId);
        consumer.setConsumeFromWhere(ConsumeFromWhere.CONSUME_FROM_FIRST_OFFSET);
        consumer.subscribe(topic, "*");
        String javaBody = "java-traced-" + runId;
        consumer.registerMessageListener((MessageListenerConcurrently) (msgs, ctx) -> {
            for (MessageExt m : msgs) {
                if (new String(m.getBody(), StandardCharsets.UTF_8).equals(javaBody)) {
                    got.countDown();
                }
            }
            return ConsumeConcurrentlyStatus.CONSUME_SUCCESS;
        });
        consumer.start();
        String javaId;
        try {
            SendResult r = producer.send(new Message(topic, "TagJ", "trace-key-" + runId,
                javaBody.getBytes(StandardCharsets.UTF_8)));
            javaId = r.getMsgId();
            Check.that(got.await(60, TimeUnit.SECONDS), "the traced Java consumer never got " + javaId);
            String out = "";
            long deadline = System.currentTimeMillis() + 30_000;
            while (System.currentTimeMillis() < deadline) {
                out = ours(mqadmin, "QueryMsgTraceById", "-n", ns, "-i", javaId);
                if (hasRow(out, "Pub", javaPg) && hasRow(out, "Sub", javaCg)) {
                    break;
                }
                Thread.sleep(500);
            }
            Check.that(hasRow(out, "Pub", javaPg), "our QueryMsgTraceById: no Pub row of " + javaPg + ":\n" + out);
            Check.that(hasRow(out, "Sub", javaCg), "our QueryMsgTraceById: no Sub row of " + javaCg + ":\n" + out);
            Check.contains(out, "#ProducerGroup", "our QueryMsgTraceById header");
        } finally {
            consumer.shutdown();
            producer.shutdown();
        }
        Check.ok("Java producer and consumer with enableMsgTrace: our mqadmin QueryMsgTraceById " + javaId
            + " shows the Pub row of " + javaPg + " and the Sub row of " + javaCg);

        // 2. Our traced producer and consumer -> the real 4.8.0 mqadmin.
        String rustPg = "interop_pg_rust_trace_" + runId;
        String rustCg = "interop_cg_rust_trace_" + runId;
        String rustBody = "rust-traced-" + runId;
        ReplyInterop.Child c = new ReplyInterop.Child(example, "consume", "--trace", "-n", ns, "-t", topic,
            "-g", rustCg, "--seconds", "120");
        c.awaitLine("READY", 60);
        ReplyInterop.Child p = new ReplyInterop.Child(example, "produce", "--trace", "-n", ns, "-t", topic,
            "-g", rustPg, "-m", rustBody, "--tags", "TagR", "--keys", "rust-key-" + runId);
        String sent = p.awaitLine("SEND_OK ", 60);
        String rustId = sent.substring("SEND_OK ".length()).trim();
        Check.that(p.process.waitFor(30, TimeUnit.SECONDS) && p.process.exitValue() == 0,
            "rmq-example produce failed: " + p.describe());
        c.awaitLine(topic + " ", 60);
        c.stop(); // SIGTERM: the consumer shuts down and sends its queued trace events
        String out = MqAdmin.waitFor("real mqadmin QueryMsgTraceById", rustCg, 30,
            "QueryMsgTraceById", "-n", ns, "-i", rustId);
        Check.that(hasRow(out, "Pub", rustPg), "real QueryMsgTraceById: no Pub row of " + rustPg + ":\n" + out);
        Check.that(hasRow(out, "Sub", rustCg), "real QueryMsgTraceById: no Sub row of " + rustCg + ":\n" + out);
        Check.ok("our producer and consumer with --trace: the real 4.8.0 mqadmin QueryMsgTraceById " + rustId
            + " shows the Pub row of " + rustPg + " and the Sub row of " + rustCg);
    }
}
