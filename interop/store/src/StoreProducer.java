// Sends a mix of messages to the real 4.8.0 broker started by interop/store/run.sh, so that its
// store holds every kind of record rmq-inspect must understand: tags and several keys (also
// non-ASCII ones, whose Java String.hashCode runs over UTF-16), compressed bodies (> 4 KiB),
// batches, delayed messages (SCHEDULE_TOPIC_XXXX, re-put to the real topic when due) and
// transactional messages (half topic, op topic, COMMIT_TYPE records).
// Usage: StoreProducer <namesrvAddr> <topic> <count>. Prints "sent N" and exits 1 on a failed send.

import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;

import org.apache.rocketmq.client.producer.DefaultMQProducer;
import org.apache.rocketmq.client.producer.LocalTransactionState;
import org.apache.rocketmq.client.producer.SendResult;
import org.apache.rocketmq.client.producer.SendStatus;
import org.apache.rocketmq.client.producer.TransactionListener;
import org.apache.rocketmq.client.producer.TransactionMQProducer;
import org.apache.rocketmq.client.producer.TransactionSendResult;
import org.apache.rocketmq.common.message.Message;
import org.apache.rocketmq.common.message.MessageExt;

public class StoreProducer {
    static int sent = 0;

    static void check(SendResult r, String what) {
        if (r.getSendStatus() != SendStatus.SEND_OK) {
            System.err.println("FAIL " + what + ": " + r);
            System.exit(1);
        }
        sent++;
    }

    static byte[] body(int i, int size) {
        StringBuilder sb = new StringBuilder("message " + i + " ");
        while (sb.length() < size) {
            sb.append("payload-").append(i).append(' ');
        }
        return sb.toString().getBytes(StandardCharsets.UTF_8);
    }

    public static void main(String[] args) throws Exception {
        String ns = args[0];
        String topic = args[1];
        int count = Integer.parseInt(args[2]);

        DefaultMQProducer p = new DefaultMQProducer("store-interop-pg");
        p.setNamesrvAddr(ns);
        p.setSendMsgTimeout(10000);
        p.start();
        for (int i = 0; i < count; i++) {
            String tags = i % 4 == 3 ? null : (i % 4 == 2 ? "标签" : "Tag" + (i % 2));
            String keys = i % 5 == 4 ? null : "order-" + i + " user-" + (i % 7) + (i % 10 == 1 ? " ключ-" + i : "");
            int size = i % 25 == 0 ? 6000 : 40 + (i * 37) % 900; // every 25th is compressed
            Message m = new Message(topic, tags, keys, body(i, size));
            check(p.send(m), "message " + i);
        }
        // Batches: consecutive queue offsets, each message with its own UNIQ_KEY and keys.
        for (int b = 0; b < 3; b++) {
            List<Message> batch = new ArrayList<>();
            for (int j = 0; j < 10; j++) {
                batch.add(new Message(topic, "Batch", "batch-" + b + "-" + j, body(1000 + j, 60 + j * 13)));
            }
            SendResult r = p.send(batch);
            if (r.getSendStatus() != SendStatus.SEND_OK) {
                System.err.println("FAIL batch " + b + ": " + r);
                System.exit(1);
            }
            sent += batch.size();
        }
        // Delayed messages: levels 1 (1 s) and 2 (5 s).
        for (int i = 0; i < 6; i++) {
            Message m = new Message(topic, "Delayed", "delay-" + i, body(2000 + i, 80));
            m.setDelayTimeLevel(1 + i % 2);
            check(p.send(m), "delayed " + i);
        }
        p.shutdown();

        // Transactions: even ones commit (a COMMIT_TYPE record in the topic), odd ones roll back.
        TransactionMQProducer tp = new TransactionMQProducer("store-interop-tx");
        tp.setNamesrvAddr(ns);
        tp.setSendMsgTimeout(10000);
        tp.setTransactionListener(new TransactionListener() {
            public LocalTransactionState executeLocalTransaction(Message msg, Object arg) {
                return ((Integer) arg) % 2 == 0 ? LocalTransactionState.COMMIT_MESSAGE
                    : LocalTransactionState.ROLLBACK_MESSAGE;
            }

            public LocalTransactionState checkLocalTransaction(MessageExt msg) {
                return LocalTransactionState.ROLLBACK_MESSAGE;
            }
        });
        tp.start();
        for (int i = 0; i < 4; i++) {
            Message m = new Message(topic, "Tx", "tx-" + i, body(3000 + i, 70));
            TransactionSendResult r = tp.sendMessageInTransaction(m, i);
            check(r, "transaction " + i);
        }
        tp.shutdown();
        System.out.println("sent " + sent);
    }
}
