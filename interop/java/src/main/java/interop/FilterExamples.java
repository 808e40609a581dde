/*
 * Interop suite "filter": RocketMQ 4.8.0's example package `filter` (TagFilterProducer /
 * TagFilterConsumer, SqlFilterProducer / SqlFilterConsumer) redone on the official 4.8.0 Java
 * client against our broker (which runs with enablePropertyFilter=true), checking that each
 * consumer receives exactly the messages its selector matches — not only that sends succeed.
 * Also: an expression the broker cannot compile makes consumer.start() fail with
 * SUBSCRIPTION_PARSE_FAILED (23), as against a 4.8.0 broker.
 *
 * Usage: java interop.FilterExamples <namesrvAddr> <clusterName>
 */
package interop;

import java.nio.charset.StandardCharsets;
import java.util.Set;
import java.util.TreeSet;
import java.util.concurrent.ConcurrentSkipListSet;
import org.apache.rocketmq.client.consumer.DefaultMQPushConsumer;
import org.apache.rocketmq.client.consumer.MessageSelector;
import org.apache.rocketmq.client.consumer.listener.ConsumeConcurrentlyStatus;
import org.apache.rocketmq.client.consumer.listener.MessageListenerConcurrently;
import org.apache.rocketmq.client.exception.MQClientException;
import org.apache.rocketmq.client.producer.DefaultMQProducer;
import org.apache.rocketmq.client.producer.SendStatus;
import org.apache.rocketmq.common.consumer.ConsumeFromWhere;
import org.apache.rocketmq.common.message.Message;
import org.apache.rocketmq.common.message.MessageExt;

public final class FilterExamples {
    private FilterExamples() {
    }

    static final String[] TAGS = {"TagA", "TagB", "TagC"};

    public static void main(String[] args) {
        if (args.length != 2) {
            System.err.println("usage: FilterExamples <namesrvAddr> <clusterName>");
            System.exit(2);
        }
        int status = 0;
        try {
            run(args[0], args[1]);
            System.out.println("java filter examples: all checks passed");
        } catch (Throwable t) {
            System.out.println("java filter examples: FAILED");
            t.printStackTrace(System.out);
            status = 1;
        }
        System.exit(status);
    }

    static void run(String ns, String cluster) throws Exception {
        String runId = Long.toString(System.currentTimeMillis(), 36);
        String tagTopic = "TagFilterTest_" + runId;
        String sqlTopic = "SqlFilterTest_" + runId;
        for (String t : new String[] {tagTopic, sqlTopic}) {
            MqAdmin.ok("updateTopic", "-n", ns, "-c", cluster, "-t", t, "-r", "4", "-w", "4");
            MqAdmin.waitFor("mqadmin topicRoute " + t, "readQueueNums", 30, "topicRoute", "-n", ns, "-t", t);
        }

        // TagFilter: 60 messages tagged A, B, C in turn; the consumer takes "TagA || TagC".
        Set<Integer> tagWant = new TreeSet<>();
        for (int i = 0; i < 60; i++) {
            if (i % 3 != 1) {
                tagWant.add(i);
            }
        }
        Set<Integer> tagGot = new ConcurrentSkipListSet<>();
        DefaultMQPushConsumer tagConsumer = consumer(ns, "TagFilterGroup_" + runId, tagGot);
        tagConsumer.subscribe(tagTopic, "TagA || TagC");
        tagConsumer.start();

        // SqlFilter: the example's expression; 10 messages with a = i and tags A, B, C in turn.
        String sql = "(TAGS is not null and TAGS in ('TagA', 'TagB'))"
            + "and (a is not null and a between 0 and 3)";
        Set<Integer> sqlWant = new TreeSet<>();
        for (int i = 0; i < 10; i++) {
            if (i % 3 != 2 && i <= 3) {
                sqlWant.add(i);
            }
        }
        Set<Integer> sqlGot = new ConcurrentSkipListSet<>();
        DefaultMQPushConsumer sqlConsumer = consumer(ns, "SqlFilterGroup_" + runId, sqlGot);
        sqlConsumer.subscribe(sqlTopic, MessageSelector.bySql(sql));
        sqlConsumer.start();
        Check.ok("SqlFilterConsumer started (CHECK_CLIENT_CONFIG accepted the expression)");

        DefaultMQProducer producer = new DefaultMQProducer("FilterExamplesProducer_" + runId);
        producer.setNamesrvAddr(ns);
        producer.start();
        for (int i = 0; i < 60; i++) {
            Message m = new Message(tagTopic, TAGS[i % 3], Integer.toString(i).getBytes(StandardCharsets.UTF_8));
            Check.that(producer.send(m).getSendStatus() == SendStatus.SEND_OK, "tag send " + i);
        }
        for (int i = 0; i < 10; i++) {
            Message m = new Message(sqlTopic, TAGS[i % 3], Integer.toString(i).getBytes(StandardCharsets.UTF_8));
            m.putUserProperty("a", String.valueOf(i));
            Check.that(producer.send(m).getSendStatus() == SendStatus.SEND_OK, "sql send " + i);
        }
        producer.shutdown();

        expectExactly("TagFilterConsumer (TagA || TagC)", tagGot, tagWant);
        Check.ok("TagFilterConsumer received exactly the " + tagWant.size() + " TagA/TagC messages of 60");
        expectExactly("SqlFilterConsumer", sqlGot, sqlWant);
        Check.ok("SqlFilterConsumer received exactly messages " + sqlWant + " of 10");
        tagConsumer.shutdown();
        sqlConsumer.shutdown();

        // A bad expression: start() fails with the broker's SUBSCRIPTION_PARSE_FAILED.
        DefaultMQPushConsumer bad = consumer(ns, "SqlFilterBadGroup_" + runId, new ConcurrentSkipListSet<Integer>());
        bad.subscribe(sqlTopic, MessageSelector.bySql("a >"));
        try {
            bad.start();
            bad.shutdown();
            throw new AssertionError("consumer with expression 'a >' started");
        } catch (MQClientException e) {
            Check.that(e.getResponseCode() == 23, "bad expression: code " + e.getResponseCode() + " " + e.getErrorMessage());
            Check.contains(String.valueOf(e.getErrorMessage()), "ParseException: Encountered", "bad expression remark");
            Check.ok("bySql(\"a >\") refused by start() with code 23: " + e.getErrorMessage().split("\n")[0]);
        }
    }

    static DefaultMQPushConsumer consumer(String ns, String group, final Set<Integer> got) {
        DefaultMQPushConsumer c = new DefaultMQPushConsumer(group);
        c.setNamesrvAddr(ns);
        c.setConsumeFromWhere(ConsumeFromWhere.CONSUME_FROM_FIRST_OFFSET);
        c.registerMessageListener((MessageListenerConcurrently) (msgs, context) -> {
            for (MessageExt m : msgs) {
                got.add(Integer.parseInt(new String(m.getBody(), StandardCharsets.UTF_8)));
            }
            return ConsumeConcurrentlyStatus.CONSUME_SUCCESS;
        });
        return c;
    }

    static void expectExactly(String what, Set<Integer> got, Set<Integer> want) throws InterruptedException {
        long deadline = System.currentTimeMillis() + 60_000;
        while (got.size() < want.size() && System.currentTimeMillis() < deadline) {
            Thread.sleep(200);
        }
        Thread.sleep(2000); // anything that should not come would come now
        Check.that(new TreeSet<>(got).equals(want), what + ": wanted " + want + ", got " + new TreeSet<>(got));
    }
}
