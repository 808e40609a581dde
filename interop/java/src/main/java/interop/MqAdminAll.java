/*
 * The real mqadmin 4.8.0 (rocketmq-tools, MQAdminStartup) runs every subcommand of its operations
 * surface against our name server and broker, and each call is checked by its output or by its
 * effect seen through another call. The ACL subcommands and QueryMsgTraceById are run by the ACL
 * and trace suites; consumerStatus, resetOffsetByTime and queryMsgById -g -d by the reply suite;
 * the rest of the everyday commands (updateTopic, topicRoute, topicStatus, clusterList, ...) also
 * by the java suite. Book: Appendix "mqadmin subcommands" (the table names this class).
 */
package interop;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.util.concurrent.atomic.AtomicInteger;
import org.apache.rocketmq.client.consumer.DefaultMQPushConsumer;
import org.apache.rocketmq.client.consumer.listener.ConsumeConcurrentlyStatus;
import org.apache.rocketmq.client.consumer.listener.MessageListenerConcurrently;
import org.apache.rocketmq.client.producer.DefaultMQProducer;
import org.apache.rocketmq.client.producer.SendResult;
import org.apache.rocketmq.common.consumer.ConsumeFromWhere;
import org.apache.rocketmq.common.message.Message;
import org.apache.rocketmq.tools.command.MQAdminStartup;

public final class MqAdminAll {
    private MqAdminAll() {
    }

    public static void main(String[] args) {
        if (args.length != 4) {
            System.err.println("usage: MqAdminAll <namesrvAddr> <clusterName> <brokerName> <brokerAddr>");
            System.exit(2);
        }
        int status = 0;
        try {
            run(args[0], args[1], args[2], args[3]);
            System.out.println("mqadmin interop: all checks passed");
        } catch (Throwable t) {
            System.out.println("mqadmin interop: FAILED");
            t.printStackTrace(System.out);
            status = 1;
        }
        System.exit(status);
    }

    /** The perm of the first queue data in `topicRoute` output (fastjson pretty text). */
    static int routePerm(String ns, String topic) {
        String route = MqAdmin.ok("topicRoute", "-n", ns, "-t", topic);
        String rest = route.substring(route.indexOf("\"perm\":") + 7).trim();
        int end = 0;
        while (end < rest.length() && Character.isDigit(rest.charAt(end))) {
            end++;
        }
        return Integer.parseInt(rest.substring(0, end));
    }

    /**
     * Runs a subcommand that never returns by itself (clusterRT) in a thread until its output
     * contains `needle`, then interrupts it; returns what it printed.
     */
    static String runUntil(String needle, int seconds, String... args) throws Exception {
        PrintStream oldOut = System.out;
        PrintStream oldErr = System.err;
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        PrintStream o = new PrintStream(out, true, "UTF-8");
        // The interrupt ends the command with a stack trace on stderr; it is expected.
        PrintStream e = new PrintStream(new ByteArrayOutputStream(), true, "UTF-8");
        Thread t = new Thread(() -> MQAdminStartup.main0(args, null));
        t.setDaemon(true);
        System.setOut(o);
        System.setErr(e);
        try {
            t.start();
            long deadline = System.currentTimeMillis() + seconds * 1000L;
            while (System.currentTimeMillis() < deadline && !out.toString("UTF-8").contains(needle)) {
                Thread.sleep(200);
            }
        } finally {
            t.interrupt();
            t.join(5000);
            System.setOut(oldOut);
            System.setErr(oldErr);
        }
        return out.toString("UTF-8");
    }

    static void run(String ns, String cluster, String brokerName, String brokerAddr) throws Exception {
        String runId = Long.toString(System.currentTimeMillis(), 36);
        String topic = "InteropAdmin_" + runId;
        String group = "interop_admin_cg_" + runId;
        String producerGroup = "interop_admin_pg_" + runId;
        MqAdmin.createTopic(ns, cluster, brokerAddr, topic);

        // Configuration: broker and name server.
        Check.contains(MqAdmin.ok("updateBrokerConfig", "-n", ns, "-b", brokerAddr, "-k", "brokerPermission", "-v", "6"),
            "update broker config success, " + brokerAddr, "updateBrokerConfig");
        String cfg = MqAdmin.ok("getBrokerConfig", "-n", ns, "-b", brokerAddr);
        Check.contains(cfg, "brokerPermission", "getBrokerConfig");
        Check.contains(MqAdmin.ok("updateNamesrvConfig", "-n", ns, "-k", "orderMessageEnable", "-v", "true"),
            "update name server config success!", "updateNamesrvConfig");
        String nsCfg = MqAdmin.ok("getNamesrvConfig", "-n", ns);
        Check.that(nsCfg.matches("(?s).*orderMessageEnable\\s*=\\s*true.*"), "getNamesrvConfig shows the update:\n" + nsCfg);
        Check.contains(MqAdmin.ok("updateKvConfig", "-n", ns, "-s", "InteropSpace", "-k", "k" + runId, "-v", "v1"),
            "create or update kv config to namespace success.", "updateKvConfig");
        Check.contains(MqAdmin.ok("deleteKvConfig", "-n", ns, "-s", "InteropSpace", "-k", "k" + runId),
            "delete kv config from namespace success.", "deleteKvConfig");
        MqAdmin.ok("updateOrderConf", "-n", ns, "-t", topic, "-m", "put", "-v", brokerName + ":4");
        Check.contains(MqAdmin.ok("updateOrderConf", "-n", ns, "-t", topic, "-m", "get"),
            "orderConf=[" + brokerName + ":4]", "updateOrderConf get");
        Check.contains(MqAdmin.ok("updateOrderConf", "-n", ns, "-t", topic, "-m", "delete"),
            "delete orderConf success", "updateOrderConf delete");

        // Topics and permissions.
        Check.contains(MqAdmin.ok("topicClusterList", "-n", ns, "-t", topic), cluster, "topicClusterList");
        Check.contains(MqAdmin.ok("updateTopicPerm", "-n", ns, "-b", brokerAddr, "-t", topic, "-p", "4"),
            "update topic perm from 6 to 4 in " + brokerAddr + " success", "updateTopicPerm");
        MqAdmin.waitFor("route with perm 4", "\"perm\":4", 30, "topicRoute", "-n", ns, "-t", topic);
        MqAdmin.ok("updateTopicPerm", "-n", ns, "-c", cluster, "-t", topic, "-p", "6");
        MqAdmin.waitFor("route with perm 6", "\"perm\":6", 30, "topicRoute", "-n", ns, "-t", topic);
        Check.contains(MqAdmin.ok("wipeWritePerm", "-n", ns, "-b", brokerName),
            "wipe write perm of broker[" + brokerName + "] in name server[" + ns + "] OK", "wipeWritePerm");
        Check.that((routePerm(ns, topic) & 2) == 0, "wipeWritePerm removed the write bit from the route");
        // The broker's next registration gives the permission back; updateTopicPerm does it now.
        MqAdmin.ok("updateTopicPerm", "-n", ns, "-c", cluster, "-t", topic, "-p", "6");
        MqAdmin.waitFor("route writable again", "\"perm\":6", 30, "topicRoute", "-n", ns, "-t", topic);
        Check.contains(MqAdmin.ok("allocateMQ", "-n", ns, "-t", topic, "-i", "10.0.0.1,10.0.0.2"),
            "\"10.0.0.2\"", "allocateMQ");
        Check.contains(MqAdmin.ok("brokerStatus", "-n", ns, "-b", brokerAddr), "brokerVersionDesc", "brokerStatus");

        // Messages: sendMessage, then the message views.
        String sent = MqAdmin.ok("sendMessage", "-n", ns, "-t", topic, "-p", "hello-admin", "-b", brokerName, "-i", "0");
        Check.contains(sent, "SEND_OK", "sendMessage");
        DefaultMQProducer producer = new DefaultMQProducer(producerGroup);
        producer.setNamesrvAddr(ns);
        producer.setInstanceName("admin_" + runId);
        producer.start();
        SendResult r = producer.send(new Message(topic, "TagA", "key" + runId, "body-admin".getBytes("UTF-8")));
        Check.contains(MqAdmin.ok("queryMsgByUniqueKey", "-n", ns, "-t", topic, "-i", r.getMsgId()),
            "[key" + runId + "]", "queryMsgByUniqueKey");
        Check.contains(MqAdmin.ok("queryMsgByOffset", "-n", ns, "-t", topic, "-b", brokerName, "-i", "0", "-o", "0"),
            "OffsetID:", "queryMsgByOffset");
        Check.contains(MqAdmin.ok("printMsg", "-n", ns, "-t", topic), "BODY: hello-admin", "printMsg");
        int qid = r.getMessageQueue().getQueueId();
        Check.contains(MqAdmin.ok("printMsgByQueue", "-n", ns, "-t", topic, "-a", brokerName, "-i", Integer.toString(qid), "-f", "true"),
            "Tag: TagA", "printMsgByQueue");
        Check.contains(MqAdmin.ok("consumeMessage", "-n", ns, "-t", topic, "-b", brokerName, "-i", "0", "-o", "0", "-c", "1"),
            "BODY: hello-admin", "consumeMessage");
        Check.contains(MqAdmin.ok("queryCq", "-n", ns, "-t", topic, "-q", "0", "-i", "0", "-b", brokerAddr),
            "ConsumeQueueData{physicOffset=", "queryCq");
        MqAdmin.waitFor("producerConnection", "admin_" + runId, 40,
            "producerConnection", "-n", ns, "-g", producerGroup, "-t", topic);
        Check.contains(MqAdmin.ok("sendMsgStatus", "-n", ns, "-b", brokerName, "-c", "2"),
            "sendStatus=SEND_OK", "sendMsgStatus");
        Check.contains(MqAdmin.ok("checkMsgSendRT", "-n", ns, "-t", topic, "-a", "3", "-s", "16"),
            "Avg RT:", "checkMsgSendRT");
        String rt = runUntil(brokerName, 30, "clusterRT", "-n", ns, "-a", "3", "-s", "16", "-i", "1");
        Check.contains(rt, cluster, "clusterRT");

        // A consumer group: a 4.8.0 push consumer reads the topic, then the group views.
        AtomicInteger consumed = new AtomicInteger();
        DefaultMQPushConsumer consumer = new DefaultMQPushConsumer(group);
        consumer.setNamesrvAddr(ns);
        consumer.setInstanceName("admin_c_" + runId);
        consumer.setConsumeFromWhere(ConsumeFromWhere.CONSUME_FROM_FIRST_OFFSET);
        consumer.subscribe(topic, "*");
        consumer.registerMessageListener((MessageListenerConcurrently) (msgs, ctx) -> {
            consumed.addAndGet(msgs.size());
            return ConsumeConcurrentlyStatus.CONSUME_SUCCESS;
        });
        consumer.start();
        // brokerConsumeStats keeps its admin client in the command object and shuts it down after
        // one call, and MQAdminStartup reuses that object: in one JVM it can run only once. So
        // the wait is on consumerProgress, then brokerConsumeStats runs once.
        MqAdmin.waitFor("consumerProgress", "Diff Total: 0", 60, "consumerProgress", "-n", ns, "-g", group);
        Check.contains(MqAdmin.ok("brokerConsumeStats", "-n", ns, "-b", brokerAddr), group, "brokerConsumeStats");
        MqAdmin.waitFor("statsAll", group, 30, "statsAll", "-n", ns, "-t", topic);
        Check.contains(MqAdmin.ok("cloneGroupOffset", "-n", ns, "-s", group, "-d", group + "_clone", "-t", topic),
            "clone group offset success", "cloneGroupOffset");
        // startMonitoring schedules its rounds and returns; it must start without an error.
        MqAdmin.ok("startMonitoring", "-n", ns);
        consumer.shutdown();
        producer.shutdown();

        // Groups and cleanup.
        MqAdmin.ok("updateSubGroup", "-n", ns, "-b", brokerAddr, "-g", group + "_tmp");
        Check.contains(MqAdmin.ok("deleteSubGroup", "-n", ns, "-b", brokerAddr, "-g", group + "_tmp"),
            "delete subscription group [" + group + "_tmp] from broker [" + brokerAddr + "] success", "deleteSubGroup");
        Check.contains(MqAdmin.ok("cleanExpiredCQ", "-n", ns, "-b", brokerAddr), "success", "cleanExpiredCQ");
        Check.contains(MqAdmin.ok("cleanUnusedTopic", "-n", ns, "-b", brokerAddr), "success", "cleanUnusedTopic");
        Check.contains(MqAdmin.ok("deleteTopic", "-n", ns, "-c", cluster, "-t", topic),
            "delete topic [" + topic + "] from NameServer success", "deleteTopic");
        Check.ok("mqadmin: every operations subcommand of the real 4.8.0 tool");
    }
}
