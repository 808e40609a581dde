/*
 * The reply suite (see interop/README.md): request-reply and offset reset with the official
 * RocketMQ 4.8.0 Java client and mqadmin against our broker, side by side with our Rust client
 * (the rmq-example binary, started as a child process).
 *
 * 1. RocketMQ's `rpc` example, written anew: a Java responder answers with
 *    MessageUtil.createReplyMessage, a Java requester calls producer.request(msg, timeout) and
 *    the RequestCallback form, and checks every reply's body and properties.
 * 2. Java requester -> Rust responder, and Rust requester -> Java responder.
 * 3. Offset reset: a Java consumer group and a Rust consumer group read two batches; the real
 *    mqadmin resetOffsetByTime moves each group back to the second batch while its consumer
 *    runs, and each consumer must receive exactly the second batch again. Then the
 *    broker-relayed calls: consumer status (INVOKE_BROKER_TO_GET_CONSUMER_STATUS), mqadmin
 *    consumerStatus -i (GET_CONSUMER_RUNNING_INFO) and mqadmin queryMsgById -g -d
 *    (CONSUME_MESSAGE_DIRECTLY) against both consumers.
 *
 * Usage: java interop.ReplyInterop <namesrvAddr> <clusterName> <brokerName> <brokerAddr> <rmq-example>
 * Exit status 0 when every check passed, 1 otherwise.
 */
package interop;

import java.io.BufferedReader;
import java.io.File;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Map;
import java.util.TreeSet;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.function.BooleanSupplier;
import java.util.function.Supplier;
import org.apache.rocketmq.client.consumer.DefaultMQPushConsumer;
import org.apache.rocketmq.client.consumer.listener.ConsumeConcurrentlyStatus;
import org.apache.rocketmq.client.consumer.listener.MessageListenerConcurrently;
import org.apache.rocketmq.client.producer.DefaultMQProducer;
import org.apache.rocketmq.client.producer.RequestCallback;
import org.apache.rocketmq.client.producer.SendResult;
import org.apache.rocketmq.client.utils.MessageUtil;
import org.apache.rocketmq.common.admin.ConsumeStats;
import org.apache.rocketmq.common.admin.OffsetWrapper;
import org.apache.rocketmq.common.consumer.ConsumeFromWhere;
import org.apache.rocketmq.common.message.Message;
import org.apache.rocketmq.common.message.MessageConst;
import org.apache.rocketmq.common.message.MessageExt;
import org.apache.rocketmq.common.message.MessageQueue;
import org.apache.rocketmq.tools.admin.DefaultMQAdminExt;

public final class ReplyInterop {
    private ReplyInterop() {
    }

    public static void main(String[] args) {
        if (args.length != 5) {
            System.err.println("usage: ReplyInterop <namesrvAddr> <clusterName> <brokerName> <brokerAddr> <rmq-example>");
            System.exit(2);
        }
        int status = 0;
        try {
            new Suite(args[0], args[1], args[2], args[3], args[4]).run();
            System.out.println("reply interop: all checks passed");
        } catch (Throwable t) {
            System.out.println("reply interop: FAILED");
            t.printStackTrace(System.out);
            status = 1;
        } finally {
            Child.killAll();
        }
        System.exit(status);
    }

    /** Waits for `done`; on time-out fails with `what` (evaluated then, so it shows the final state). */
    static void await(Supplier<String> what, int seconds, BooleanSupplier done) throws InterruptedException {
        long deadline = System.currentTimeMillis() + seconds * 1000L;
        while (!done.getAsBoolean()) {
            if (System.currentTimeMillis() > deadline) {
                throw new AssertionError(what.get() + " (waited " + seconds + " s)");
            }
            Thread.sleep(200);
        }
    }

    /** An rmq-example child process whose output lines are collected. */
    static final class Child {
        private static final List<Process> ALL = Collections.synchronizedList(new ArrayList<>());
        final Process process;
        final List<String> lines = Collections.synchronizedList(new ArrayList<>());

        Child(String... command) throws Exception {
            ProcessBuilder pb = new ProcessBuilder(command);
            pb.redirectErrorStream(true);
            process = pb.start();
            ALL.add(process);
            Thread reader = new Thread(() -> {
                try (BufferedReader r = new BufferedReader(
                    new InputStreamReader(process.getInputStream(), StandardCharsets.UTF_8))) {
                    String line;
                    while ((line = r.readLine()) != null) {
                        lines.add(line);
                    }
                } catch (Exception e) {
                    lines.add("(reader stopped: " + e + ")");
                }
            });
            reader.setDaemon(true);
            reader.start();
        }

        /** The first line starting with `prefix`, waiting up to `seconds`. */
        String awaitLine(String prefix, int seconds) throws InterruptedException {
            long deadline = System.currentTimeMillis() + seconds * 1000L;
            while (System.currentTimeMillis() < deadline) {
                synchronized (lines) {
                    for (String l : lines) {
                        if (l.startsWith(prefix)) {
                            return l;
                        }
                    }
                }
                if (!process.isAlive()) {
                    break;
                }
                Thread.sleep(100);
            }
            throw new AssertionError("no line starting with \"" + prefix + "\" from " + describe());
        }

        String describe() {
            synchronized (lines) {
                return "rmq-example (alive=" + process.isAlive() + "):\n  " + String.join("\n  ", lines);
            }
        }

        void stop() throws InterruptedException {
            process.destroy();
            if (!process.waitFor(20, TimeUnit.SECONDS)) {
                process.destroyForcibly();
            }
        }

        static void killAll() {
            synchronized (ALL) {
                for (Process p : ALL) {
                    p.destroyForcibly();
                }
            }
        }
    }

    static final class Suite {
        final String ns;
        final String cluster;
        final String brokerName;
        final String brokerAddr;
        final String example;
        final String runId = Long.toString(System.currentTimeMillis(), 36);

        Suite(String ns, String cluster, String brokerName, String brokerAddr, String example) {
            this.ns = ns;
            this.cluster = cluster;
            this.brokerName = brokerName;
            this.brokerAddr = brokerAddr;
            this.example = example;
            Check.that(new File(example).canExecute(), "not an executable: " + example);
        }

        void run() throws Exception {
            requestReply();
            offsetReset();
        }

        DefaultMQProducer producer(String group) throws Exception {
            DefaultMQProducer p = new DefaultMQProducer(group);
            p.setNamesrvAddr(ns);
            p.setInstanceName(group + "-" + runId);
            p.start();
            return p;
        }

        // ---- 1 + 2: request-reply ----------------------------------------------------------

        /** The Java ResponseConsumer: answers every request with "reply:<body>". */
        DefaultMQPushConsumer javaResponder(String topic, DefaultMQProducer replier) throws Exception {
            DefaultMQPushConsumer c = new DefaultMQPushConsumer("rpc_responder_java_" + runId);
            c.setNamesrvAddr(ns);
            c.setInstanceName("rpc-responder-" + runId);
            c.setConsumeFromWhere(ConsumeFromWhere.CONSUME_FROM_FIRST_OFFSET);
            c.subscribe(topic, "*");
            c.registerMessageListener((MessageListenerConcurrently) (msgs, ctx) -> {
                for (MessageExt m : msgs) {
                    try {
                        byte[] body = ("reply:" + new String(m.getBody(), StandardCharsets.UTF_8))
                            .getBytes(StandardCharsets.UTF_8);
                        Message reply = MessageUtil.createReplyMessage(m, body);
                        replier.send(reply, 3000);
                    } catch (Exception e) {
                        e.printStackTrace(System.out);
                        return ConsumeConcurrentlyStatus.RECONSUME_LATER;
                    }
                }
                return ConsumeConcurrentlyStatus.CONSUME_SUCCESS;
            });
            c.start();
            return c;
        }

        void checkReply(Message reply, String expectBody, String requesterId, String what) {
            Check.that(reply != null, what + ": no reply");
            String body = new String(reply.getBody(), StandardCharsets.UTF_8);
            Check.that(body.equals(expectBody), what + ": reply body \"" + body + "\", want \"" + expectBody + "\"");
            Check.that(reply.getTopic().equals(cluster + "_REPLY_TOPIC"), what + ": reply topic " + reply.getTopic());
            Check.that("reply".equals(reply.getProperty(MessageConst.PROPERTY_MESSAGE_TYPE)), what + ": MSG_TYPE");
            Check.that(requesterId.equals(reply.getProperty(MessageConst.PROPERTY_MESSAGE_REPLY_TO_CLIENT)),
                what + ": REPLY_TO_CLIENT " + reply.getProperty(MessageConst.PROPERTY_MESSAGE_REPLY_TO_CLIENT));
            Check.that(reply.getProperty(MessageConst.PROPERTY_CORRELATION_ID) != null, what + ": CORRELATION_ID");
            Check.that(reply.getProperty(MessageConst.PROPERTY_PUSH_REPLY_TIME) != null, what + ": PUSH_REPLY_TIME");
        }

        void requestReply() throws Exception {
            String javaTopic = "RpcJava_" + runId;
            String rustTopic = "RpcRust_" + runId;
            MqAdmin.createTopic(ns, cluster, brokerAddr, javaTopic);
            MqAdmin.createTopic(ns, cluster, brokerAddr, rustTopic);

            DefaultMQProducer replier = producer("rpc_replier_" + runId);
            DefaultMQPushConsumer responder = javaResponder(javaTopic, replier);
            DefaultMQProducer requester = producer("rpc_requester_" + runId);
            String requesterId = requester.buildMQClientId();

            // 1. Java <-> Java: RequestProducer (sync), then AsyncRequestProducer (callback).
            for (int i = 0; i < 3; i++) {
                String body = "Hello world " + i;
                // The responder may need a rebalance round before it owns the queues.
                Message reply = requestWithRetry(requester, new Message(javaTopic, "", body.getBytes(StandardCharsets.UTF_8)), 30);
                checkReply(reply, "reply:" + body, requesterId, "Java requester / Java responder");
            }
            Check.ok("rpc: Java producer.request(msg, 3000) gets MessageUtil.createReplyMessage's reply (x3)");
            CompletableFuture<Message> async = new CompletableFuture<>();
            requester.request(new Message(javaTopic, "", "async hello".getBytes(StandardCharsets.UTF_8)),
                new RequestCallback() {
                    @Override
                    public void onSuccess(Message message) {
                        async.complete(message);
                    }

                    @Override
                    public void onException(Throwable e) {
                        async.completeExceptionally(e);
                    }
                }, 3000);
            checkReply(async.get(10, TimeUnit.SECONDS), "reply:async hello", requesterId, "RequestCallback");
            Check.ok("rpc: Java producer.request(msg, RequestCallback, 3000) gets its reply");

            // 2a. Java requester -> Rust responder.
            Child rust = new Child(example, "respond", "-n", ns, "-t", rustTopic, "-g", "rpc_responder_rust_" + runId);
            rust.awaitLine("READY ", 60);
            for (int i = 0; i < 3; i++) {
                String body = "to rust " + i;
                Message reply = requester.request(new Message(rustTopic, "", body.getBytes(StandardCharsets.UTF_8)), 5000);
                checkReply(reply, "reply:" + body, requesterId, "Java requester / Rust responder");
            }
            rust.awaitLine("REPLIED to rust 2 -> reply:to rust 2 SEND_OK", 10);
            rust.stop();
            Check.ok("rpc: Java requester gets the replies of the Rust responder (create_reply_message, SEND_REPLY_MESSAGE_V2)");

            // 2b. Rust requester -> Java responder (sync and callback forms).
            for (String mode : new String[] {"sync", "async"}) {
                List<String> cmd = new ArrayList<>(java.util.Arrays.asList(
                    example, "request", "-n", ns, "-t", javaTopic, "-m", "from rust " + mode, "-c", "3", "--timeout-ms", "5000"));
                if (mode.equals("async")) {
                    cmd.add("--async");
                }
                Child req = new Child(cmd.toArray(new String[0]));
                Check.that(req.process.waitFor(60, TimeUnit.SECONDS), "rust requester did not finish: " + req.describe());
                Check.that(req.process.exitValue() == 0, "rust requester failed: " + req.describe());
                for (int i = 0; i < 3; i++) {
                    req.awaitLine("reply " + i + ": reply:from rust " + mode + "-" + i + " (", 1);
                }
            }
            Check.ok("rpc: Rust requester (request, request_async) gets the Java responder's replies");

            responder.shutdown();
            requester.shutdown();
            replier.shutdown();
        }

        /** producer.request, retried while the responder is not assigned yet (a timeout). */
        Message requestWithRetry(DefaultMQProducer p, Message m, int seconds) throws Exception {
            long deadline = System.currentTimeMillis() + seconds * 1000L;
            while (true) {
                try {
                    return p.request(m, 3000);
                } catch (org.apache.rocketmq.client.exception.RequestTimeoutException e) {
                    if (System.currentTimeMillis() > deadline) {
                        throw e;
                    }
                }
            }
        }

        // ---- 3: offset reset and the relayed consumer calls -------------------------------------

        /** Sends three messages to each queue; `sent` gets (offset msgId, body) in send order. */
        List<String> sendBatch(DefaultMQProducer p, String topic, String prefix, List<MessageQueue> mqs,
            List<String[]> sent) throws Exception {
            List<String> bodies = new ArrayList<>();
            for (MessageQueue mq : mqs) {
                for (int i = 0; i < 3; i++) {
                    String body = prefix + "-" + mq.getQueueId() + "-" + i;
                    SendResult r = p.send(new Message(topic, "", body.getBytes(StandardCharsets.UTF_8)), mq);
                    sent.add(new String[] {r.getOffsetMsgId(), body});
                    bodies.add(body);
                }
            }
            Collections.sort(bodies);
            return bodies;
        }

        /** Waits until the group's stored offset of every queue of `topic` is `want`. */
        void awaitCommitted(DefaultMQAdminExt admin, String group, String topic, long want) throws Exception {
            await(() -> "offsets of " + group + " never all reached " + want, 60, () -> {
                try {
                    ConsumeStats cs = admin.examineConsumeStats(group, topic);
                    int n = 0;
                    for (Map.Entry<MessageQueue, OffsetWrapper> e : cs.getOffsetTable().entrySet()) {
                        if (e.getValue().getConsumerOffset() != want) {
                            return false;
                        }
                        n++;
                    }
                    return n == 4;
                } catch (Exception e) {
                    return false;
                }
            });
        }

        void offsetReset() throws Exception {
            String topic = "ResetInterop_" + runId;
            String javaGroup = "reset_java_" + runId;
            String rustGroup = "reset_rust_" + runId;
            MqAdmin.createTopic(ns, cluster, brokerAddr, topic);
            DefaultMQAdminExt admin = new DefaultMQAdminExt();
            admin.setNamesrvAddr(ns);
            admin.setInstanceName("reply-admin-" + runId);
            admin.start();
            DefaultMQProducer p = producer("reset_producer_" + runId);
            List<MessageQueue> mqs = p.fetchPublishMessageQueues(topic);
            Collections.sort(mqs);
            List<String[]> sent = new ArrayList<>();
            List<String> first = sendBatch(p, topic, "a", mqs, sent);
            Thread.sleep(1500);
            long t = System.currentTimeMillis();
            sent.clear();
            List<String> second = sendBatch(p, topic, "b", mqs, sent);

            // The Java consumer and the Rust consumer, each in its own group.
            List<String> javaSeen = Collections.synchronizedList(new ArrayList<>());
            DefaultMQPushConsumer jc = new DefaultMQPushConsumer(javaGroup);
            jc.setNamesrvAddr(ns);
            jc.setInstanceName("reset-java-" + runId);
            jc.setConsumeFromWhere(ConsumeFromWhere.CONSUME_FROM_FIRST_OFFSET);
            jc.subscribe(topic, "*");
            jc.registerMessageListener((MessageListenerConcurrently) (msgs, ctx) -> {
                for (MessageExt m : msgs) {
                    javaSeen.add(new String(m.getBody(), StandardCharsets.UTF_8));
                }
                return ConsumeConcurrentlyStatus.CONSUME_SUCCESS;
            });
            jc.start();
            Child rc = new Child(example, "consume", "-n", ns, "-t", topic, "-g", rustGroup);
            String rustClientId = rc.awaitLine("READY ", 60).substring("READY ".length()).trim();
            String prefix = topic + " ";
            Supplier<List<String>> rustSeen = () -> {
                List<String> out = new ArrayList<>();
                synchronized (rc.lines) {
                    for (String l : rc.lines) {
                        if (l.startsWith(prefix)) {
                            out.add(l.substring(l.lastIndexOf(' ') + 1));
                        }
                    }
                }
                return out;
            };
            await(() -> "java consumer saw " + javaSeen.size() + " of 24", 60, () -> javaSeen.size() >= 24);
            await(() -> "rust consumer saw " + rustSeen.get().size() + " of 24: " + rc.describe(), 60,
                () -> rustSeen.get().size() >= 24);
            awaitCommitted(admin, javaGroup, topic, 6);
            awaitCommitted(admin, rustGroup, topic, 6);
            Check.ok("reset: a Java and a Rust consumer group each read both batches (24 messages) and committed 6 per queue");

            // The real mqadmin resetOffsetByTime, while both consumers run.
            int rustBefore = rustSeen.get().size();
            javaSeen.clear();
            for (String group : new String[] {javaGroup, rustGroup}) {
                String out = MqAdmin.ok("resetOffsetByTime", "-n", ns, "-g", group, "-t", topic, "-s", Long.toString(t));
                Check.contains(out, "rollback consumer offset by specified group[" + group + "], topic[" + topic + "], force[true]",
                    "resetOffsetByTime " + group);
                int rows = 0;
                for (String line : out.split("\n")) {
                    String[] f = line.trim().split("\\s+");
                    if (f.length == 3 && f[0].equals(brokerName)) {
                        Check.that(f[2].equals("3"), "resetOffsetByTime " + group + ": queue " + f[1] + " reset to " + f[2] + ":\n" + out);
                        rows++;
                    }
                }
                Check.that(rows == 4, "resetOffsetByTime " + group + ": " + rows + " queue rows:\n" + out);
            }
            Check.ok("reset: mqadmin resetOffsetByTime -s <t> answers offset 3 for every queue of both groups");
            await(() -> "java consumer re-received " + new TreeSet<>(javaSeen), 60, () -> javaSeen.size() >= 12);
            await(() -> "rust consumer re-received " + (rustSeen.get().size() - rustBefore), 60,
                () -> rustSeen.get().size() - rustBefore >= 12);
            Thread.sleep(1500);
            List<String> javaAgain = new ArrayList<>(javaSeen);
            Collections.sort(javaAgain);
            List<String> rustAll = rustSeen.get();
            List<String> rustAgain = new ArrayList<>(rustAll.subList(rustBefore, rustAll.size()));
            Collections.sort(rustAgain);
            Check.that(javaAgain.equals(second), "java consumer after the reset got " + javaAgain + ", want " + second);
            Check.that(rustAgain.equals(second), "rust consumer after the reset got " + rustAgain + ", want " + second);
            Check.that(Collections.disjoint(first, javaAgain) && Collections.disjoint(first, rustAgain),
                "nothing of the first batch came back");
            Check.ok("reset: the Java and the Rust consumer each received exactly the 12 messages stored since <t> again");
            awaitCommitted(admin, javaGroup, topic, 6);
            awaitCommitted(admin, rustGroup, topic, 6);

            // Relayed calls: INVOKE_BROKER_TO_GET_CONSUMER_STATUS -> GET_CONSUMER_STATUS_FROM_CLIENT.
            String javaClientId = admin.examineConsumerConnectionInfo(javaGroup).getConnectionSet().iterator().next().getClientId();
            for (String[] gc : new String[][] {{javaGroup, javaClientId}, {rustGroup, rustClientId}}) {
                Map<String, Map<MessageQueue, Long>> status = admin.getConsumeStatus(topic, gc[0], "");
                Map<MessageQueue, Long> offsets = status.get(gc[1]);
                Check.that(offsets != null && offsets.size() == 4, "getConsumeStatus " + gc[0] + ": " + status);
                for (Long o : offsets.values()) {
                    Check.that(o == 6L, "getConsumeStatus " + gc[0] + ": " + status);
                }
            }
            Check.ok("status: INVOKE_BROKER_TO_GET_CONSUMER_STATUS returns each consumer's offsets (Java and Rust)");

            // mqadmin consumerStatus -i: GET_CONSUMER_RUNNING_INFO relayed to the client.
            for (String[] gc : new String[][] {{javaGroup, javaClientId}, {rustGroup, rustClientId}}) {
                String out = MqAdmin.ok("consumerStatus", "-n", ns, "-g", gc[0], "-i", gc[1]);
                Check.contains(out, "#Consumer Properties#", "consumerStatus " + gc[0]);
                Check.contains(out, "PROP_CONSUME_TYPE", "consumerStatus " + gc[0]);
                Check.contains(out, "Topic: " + topic, "consumerStatus " + gc[0]);
                Check.contains(out, "#Consumer RT&TPS#", "consumerStatus " + gc[0]);
                int rows = 0;
                for (String line : out.split("\n")) {
                    String[] f = line.trim().split("\\s+");
                    if (f.length == 4 && f[0].equals(topic) && f[1].equals(brokerName) && f[3].equals("6")) {
                        rows++;
                    }
                }
                Check.that(rows == 4, "consumerStatus " + gc[0] + ": want 4 offset rows at 6:\n" + out);
            }
            Check.ok("status: mqadmin consumerStatus -i shows the running info of the Java and the Rust consumer");

            // mqadmin queryMsgById -g -d: CONSUME_MESSAGE_DIRECTLY relayed to the client.
            String id = sent.get(5)[0];
            String body = sent.get(5)[1];
            int rustBeforeDirect = rustSeen.get().size();
            javaSeen.clear();
            for (String[] gc : new String[][] {{javaGroup, javaClientId}, {rustGroup, rustClientId}}) {
                String out = MqAdmin.ok("queryMsgById", "-n", ns, "-i", id, "-g", gc[0], "-d", gc[1]);
                Check.contains(out, "consumeResult=CR_SUCCESS", "queryMsgById -g " + gc[0] + " -d " + gc[1]);
            }
            await(() -> "java consumer got the direct message: " + javaSeen, 10, () -> javaSeen.size() == 1);
            await(() -> "rust consumer got the direct message", 10, () -> rustSeen.get().size() == rustBeforeDirect + 1);
            String direct = rustSeen.get().get(rustBeforeDirect);
            Check.that(javaSeen.get(0).equals(body) && direct.equals(body),
                "direct message " + id + " is " + body + "; java consumed " + javaSeen + ", rust consumed " + direct);
            Check.ok("status: mqadmin queryMsgById -g -d makes the Java and the Rust consumer consume one message directly (CR_SUCCESS)");

            rc.stop();
            jc.shutdown();
            p.shutdown();
            admin.shutdown();
        }
    }
}
