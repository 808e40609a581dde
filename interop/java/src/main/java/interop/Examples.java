/*
 * The example programs of rocketmq-example 4.8.0 (quickstart, ordermessage, broadcast, schedule,
 * batch), written as interop programs on the official 4.8.0 Java client that check what they
 * received, run against our servers in one JVM (see interop/README.md). The `filter` package
 * (TagFilter, SqlFilter) is the separate FilterExamples suite.
 *
 * Every example gets its own 4-queue topic (created first, one after the other, with the real
 * mqadmin) and its own groups; then all run at the same time, so the suite takes about as long as
 * the slowest one (schedule: level 3 is 10 s). Each prints its log when it ends.
 *
 * Usage: java interop.Examples <namesrvAddr> <clusterName> <brokerAddr> [example ...]
 * Exit status 0 when every example passed, 1 otherwise.
 */
package interop;

import java.nio.file.Files;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;

public final class Examples {
    /** One example: its name and what it runs. */
    interface Body {
        void run(ExampleKit.Env env) throws Exception;
    }

    static final Map<String, Body> ALL = new LinkedHashMap<>();

    static {
        ALL.put("quickstart", ExampleQuickstart::run);
        ALL.put("ordermessage", ExampleOrderMessage::run);
        ALL.put("broadcast", ExampleBroadcast::run);
        ALL.put("schedule", ExampleSchedule::run);
        ALL.put("batch", ExampleBatch::run);
    }

    private Examples() {
    }

    public static void main(String[] args) throws Exception {
        if (args.length < 3) {
            System.err.println("usage: Examples <namesrvAddr> <clusterName> <brokerAddr> [example ...]");
            System.exit(2);
        }
        String ns = args[0];
        String cluster = args[1];
        String brokerAddr = args[2];
        List<String> names = args.length > 3 ? Arrays.asList(args).subList(3, args.length) : new ArrayList<>(ALL.keySet());
        // Broadcasting consumers keep their offsets in local files: in run.sh's work folder
        // (EXAMPLES_OFFSET_DIR), not in the user's home.
        String offsets = System.getenv("EXAMPLES_OFFSET_DIR");
        if (offsets == null || offsets.isEmpty()) {
            offsets = Files.createTempDirectory("rmq-examples-offsets").toString();
        }
        System.setProperty("rocketmq.client.localOffsetStoreDir", offsets);
        String runId = Long.toString(System.currentTimeMillis(), 36);
        long t0 = System.currentTimeMillis();
        List<ExampleKit.Env> envs = new ArrayList<>();
        for (String name : names) {
            Check.that(ALL.containsKey(name), "unknown example " + name + "; known: " + ALL.keySet());
            String topic = "Example_" + name + "_" + runId;
            MqAdmin.createTopic(ns, cluster, brokerAddr, topic);
            envs.add(new ExampleKit.Env(name, ns, topic, runId));
        }
        System.out.printf("examples: %d topics created in %d ms; running %s at once%n", envs.size(),
            System.currentTimeMillis() - t0, names);
        ExecutorService pool = Executors.newFixedThreadPool(envs.size());
        List<Future<Long>> results = new ArrayList<>();
        for (ExampleKit.Env env : envs) {
            results.add(pool.submit(() -> {
                long start = System.currentTimeMillis();
                ALL.get(env.name).run(env);
                return System.currentTimeMillis() - start;
            }));
        }
        int failed = 0;
        for (int i = 0; i < envs.size(); i++) {
            ExampleKit.Env env = envs.get(i);
            String verdict;
            try {
                long ms = results.get(i).get();
                int busy = env.busy.get();
                verdict = "PASS (" + ms + " ms" + (busy > 0 ? ", " + busy + " SYSTEM_BUSY replies sent again" : "") + ")";
            } catch (java.util.concurrent.ExecutionException e) {
                failed++;
                verdict = "FAIL: " + e.getCause();
                e.getCause().printStackTrace(System.out);
            }
            System.out.print(env.logText());
            System.out.printf("  %-12s %s%n", env.name, verdict);
        }
        pool.shutdownNow();
        System.out.printf("examples: %d of %d passed in %d ms%n", envs.size() - failed, envs.size(),
            System.currentTimeMillis() - t0);
        // Client libraries leave non-daemon threads behind; leave explicitly.
        System.exit(failed == 0 ? 0 : 1);
    }
}
