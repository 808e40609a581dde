// Verify.java: the independent reader of interop/dledger (see README.md there). With the official
// rocketmq-client 4.8.0 DefaultMQPullConsumer it reads every queue of the topic from offset 0 on
// the group's brokerId 0 (the DLedger leader) until no new message is found, then checks that
// every body listed in the ack files ("<ackMillis> <body>" per line) was read.
//
// Prints "verify: read=N distinct=N duplicates=N acked=N missing=N" (and the first missing
// bodies) and exits 1 if an acknowledged body is missing.
//
// Usage: Verify NAMESRV TOPIC ACK_FILE...
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Paths;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import org.apache.rocketmq.client.consumer.DefaultMQPullConsumer;
import org.apache.rocketmq.client.consumer.PullResult;
import org.apache.rocketmq.common.message.MessageExt;
import org.apache.rocketmq.common.message.MessageQueue;

public class Verify {
    public static void main(String[] args) throws Exception {
        if (args.length < 3) {
            System.err.println("usage: Verify NAMESRV TOPIC ACK_FILE...");
            System.exit(2);
        }
        String namesrv = args[0], topic = args[1];
        String run = Long.toString(System.currentTimeMillis(), 36);
        DefaultMQPullConsumer c = new DefaultMQPullConsumer("dledger_failover_verify_" + run);
        c.setNamesrvAddr(namesrv);
        c.setInstanceName("dledger-failover-verify-" + run);
        c.start();
        Set<String> stored = new HashSet<>();
        long read = 0;
        try {
            for (MessageQueue mq : c.fetchSubscribeMessageQueues(topic)) {
                long offset = 0, inQueue = 0;
                int emptyTries = 0;
                while (true) {
                    PullResult r;
                    try {
                        r = c.pull(mq, "*", offset, 32, 5000);
                    } catch (Exception e) {
                        // The route may still point at a restarting node: retry a few times.
                        if (++emptyTries > 20) {
                            throw e;
                        }
                        Thread.sleep(500);
                        continue;
                    }
                    switch (r.getPullStatus()) {
                        case FOUND:
                            for (MessageExt m : r.getMsgFoundList()) {
                                stored.add(new String(m.getBody(), StandardCharsets.UTF_8));
                                read++;
                                inQueue++;
                            }
                            offset = r.getNextBeginOffset();
                            continue;
                        case OFFSET_ILLEGAL:
                            if (r.getNextBeginOffset() > offset) {
                                offset = r.getNextBeginOffset();
                                continue;
                            }
                            break;
                        default:
                            break;
                    }
                    break;
                }
                System.out.println("verify: queue " + mq.getQueueId() + " on " + mq.getBrokerName()
                        + ": " + inQueue + " messages, next offset " + offset);
            }
        } finally {
            c.shutdown();
        }
        long acked = 0;
        List<String> missing = new ArrayList<>();
        for (int i = 2; i < args.length; i++) {
            for (String line : Files.readAllLines(Paths.get(args[i]), StandardCharsets.UTF_8)) {
                int sp = line.indexOf(' ');
                if (sp < 0) {
                    continue;
                }
                String body = line.substring(sp + 1);
                acked++;
                if (!stored.contains(body)) {
                    missing.add(body);
                }
            }
        }
        System.out.println("verify: read=" + read + " distinct=" + stored.size() + " duplicates="
                + (read - stored.size()) + " acked=" + acked + " missing=" + missing.size());
        if (!missing.isEmpty()) {
            System.out.println("verify: first missing: " + missing.subList(0, Math.min(20, missing.size())));
            System.exit(1);
        }
    }
}
