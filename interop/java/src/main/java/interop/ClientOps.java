/*
 * The Java suite's client-operations checks: a 5 MiB message fits a frame (4.8.0 accepts frames up
 * to 16 MiB) and is refused by the broker with MESSAGE_ILLEGAL and 4.8.0's remark, the connection
 * staying up; the producer's own 4 MiB check is raised so the message reaches the broker.
 */
package interop;

import java.nio.charset.StandardCharsets;
import java.util.Random;
import org.apache.rocketmq.client.exception.MQBrokerException;
import org.apache.rocketmq.client.producer.DefaultMQProducer;
import org.apache.rocketmq.client.producer.SendResult;
import org.apache.rocketmq.client.producer.SendStatus;
import org.apache.rocketmq.common.message.Message;

final class ClientOps {
    /** 4.8.0's SendMessageProcessor remark for MESSAGE_ILLEGAL. */
    static final String ILLEGAL = "the message is illegal, maybe msg body or properties length not matched."
        + " msg body length limit 128k, msg properties length limit 32k.";

    private ClientOps() {
    }

    /** A 5 MiB body -> MQBrokerException(13, ILLEGAL); then a small send on the same producer works. */
    static void bigMessage(String ns, String cluster, String runId) throws Exception {
        // A topic of its own: the other checks count every message of the suite's topic.
        String topic = "InteropBig_" + runId;
        MqAdmin.ok("updateTopic", "-n", ns, "-c", cluster, "-t", topic, "-r", "1", "-w", "1");
        MqAdmin.waitFor("mqadmin topicRoute", "\"writeQueueNums\":1", 30, "topicRoute", "-n", ns, "-t", topic);
        DefaultMQProducer p = new DefaultMQProducer("interop_pg_big_" + runId);
        p.setNamesrvAddr(ns);
        p.setInstanceName("interop-big-" + runId);
        p.setMaxMessageSize(6 * 1024 * 1024);
        p.setSendMsgTimeout(15_000);
        p.start();
        try {
            // Random bytes: the client compresses bodies above 4 KiB, so zeros would shrink.
            byte[] body = new byte[5 * 1024 * 1024];
            new Random(42).nextBytes(body);
            try {
                SendResult r = p.send(new Message(topic, "Big", body));
                throw new AssertionError("a 5 MiB message was accepted: " + r);
            } catch (MQBrokerException e) {
                Check.that(e.getResponseCode() == 13, "5 MiB send: expected code 13, got " + e);
                Check.contains(e.getErrorMessage(), ILLEGAL, "5 MiB send remark");
            }
            SendResult small = p.send(new Message(topic, "Big", "small".getBytes(StandardCharsets.UTF_8)));
            Check.that(small.getSendStatus() == SendStatus.SEND_OK, "send after the 5 MiB refusal: " + small);
        } finally {
            p.shutdown();
        }
        Check.ok("a 5 MiB message gets MESSAGE_ILLEGAL (13) with 4.8.0's remark, then a small send works");
    }
}
