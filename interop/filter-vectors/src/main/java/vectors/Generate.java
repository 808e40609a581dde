package vectors;

import java.io.FileOutputStream;
import java.io.OutputStreamWriter;
import java.io.Writer;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Random;
import org.apache.rocketmq.filter.FilterFactory;
import org.apache.rocketmq.filter.expression.EvaluationContext;
import org.apache.rocketmq.filter.expression.Expression;
import org.apache.rocketmq.filter.util.BloomFilter;
import org.apache.rocketmq.filter.util.BloomFilterData;

/**
 * Writes test vectors for the Rust filter crate: for each expression, what 4.8.0's SqlFilter
 * answers when compiling it (the exception's toString, as the broker's remark) and, if it
 * compiles, what it evaluates to on each of a fixed list of property maps. Expressions are a
 * hand-written list plus random ones from a seeded generator (same file every run). Also the
 * bloom positions of a few keys. Usage: Generate OUT.json
 */
public class Generate {
    static final String[][] PROPERTY_SETS = {
        {},
        {"a", "5"},
        {"a", "10", "b", "abc"},
        {"a", "5.0", "b", "5"},
        {"a", " 7", "c", "true"},
        {"a", "-2", "b", "x'y", "c", "TRUE"},
        {"a", "NaN", "b", "1e3", "d", "99999999999"},
        {"a", "abc", "b", "abc", "c", "false", "d", "3"},
        {"a", "3", "b", "3", "c", "3", "d", "3", "e", "3"},
        {"TAGS", "TagA", "a", "2147483648", "e", "-0.0"},
    };

    static final String[] HAND = {
        "a > 5", "a >= 5", "a < 5", "a <= 5", "a = 5", "a <> 5", "a = '5'", "a <> '5'",
        "a = 5.0", "a > 5.0", "a = 5L", "a > 2147483647", "a = -2", "a = - 2", "a = +5",
        "a BETWEEN 1 AND 10", "a NOT BETWEEN 1 AND 10", "a BETWEEN 10 AND 1", "a BETWEEN 'x' AND 5",
        "a IN ('5', '10')", "a NOT IN ('5', '10')", "b IN ('abc')", "a IN ('1','2','3','4','5','6')",
        "a IS NULL", "a IS NOT NULL", "z IS NULL", "z IS NOT NULL", "a = b", "a <> b", "a > b", "z = y",
        "a", "NOT a", "c", "c = TRUE", "c = FALSE", "TRUE = c", "TRUE", "FALSE", "NULL", "NOT NULL",
        "TRUE AND a > 5", "a > 5 OR b = 'abc'", "a > 5 AND b = 'abc'", "NOT (a > 5)", "NOT a > 5",
        "(a > 5) = TRUE", "(a > 5) = 'x'", "a > 5 = b < 3", "a = 5 = TRUE",
        "a > 5 b = 6", "a > 5 )", "a > 5 b !", "a > 5 !", "a > 5 -- c", "a > 5 -- c\n AND b = 'abc'",
        "/* x */ a > 5", "a > /* x", "a >", "> 5", "", " ", "a IS 5", "a IS NOT 5", "a NOT 5",
        "a IN (5)", "a IN ()", "'x' IN ('x')", "5 IN ('5')", "a = NULL", "NULL = a", "TRUE = 5",
        "5 = TRUE", "a > 'x'", "'x' < a", "a > TRUE", "a > (b > 1)", "5", "'x'", "-a", "- a = 5",
        "a = 007", "a = 0", "a = 0.0", "a = 0.5", "a = .5", "a = 5.", "a = 1e3", "a = 1E-400",
        "a = 1e999", "a = 99999999999999999999", "a = 9223372036854775807", "a = 2147483648",
        "a != 5", "a == 5", "a = \"x\"", "a = 'it''s'", "b = 'x''y'", "a = 'unterminated",
        "a\t>\t5", "a >\n\n 5 AND\r\n b", "A > 5", "TAGS = 'TagA'", "tags = 'TagA'", "a1$_ > 1",
        "$a > 1", "_a > 1", "1a > 1", "a.b > 1", "a-b > 1", "e = 0", "e < 0", "e = -0.0", "d > 5",
        "d = 99999999999", "d > 2147483647", "a >= -2147483648", "a < 2147483648L", "a = 5l",
        "a BETWEEN NULL AND 5", "a BETWEEN TRUE AND FALSE", "a BETWEEN 1 AND b",
        "a between 1 and 10 or not b in ('abc')", "not not a = 5", "+ + a > 1", "+ ) ", "+",
        "- - 5 = a", "(a)", "((a > 1))", "(a > 1", "a > 1)", "a IS NULL IS NULL",
        "a = 5 AND", "a = 5 OR OR", "AND", "a AND b", "a OR b", "a = 1 AND b = 'abc' OR c = TRUE",
    };

    static final String[] IDS = {"a", "b", "c", "d", "e", "z", "TAGS"};
    static final String[] LITERALS = {
        "5", "10", "0", "-2", "2147483648", "5.0", "0.5", "1e3", "'5'", "'abc'", "'x''y'", "TRUE",
        "FALSE", "NULL", "3L", ".5",
    };
    static final String[] SOUP = {
        "a", "b", "5", "'x'", "(", ")", "AND", "OR", "NOT", "=", "<>", ">", ">=", "<", "<=", "IS",
        "NULL", "IN", "BETWEEN", ",", "+", "-", "TRUE", "!", "..", "'", "/*", "--", "\n",
    };

    static Random rnd = new Random(20201126L);

    static String operand(int depth) {
        int r = rnd.nextInt(10);
        if (r < 4) {
            return IDS[rnd.nextInt(IDS.length)];
        }
        if (r < 8) {
            return LITERALS[rnd.nextInt(LITERALS.length)];
        }
        if (r < 9) {
            return "-" + operand(depth);
        }
        return depth > 0 ? "(" + condition(depth - 1) + ")" : IDS[0];
    }

    static String condition(int depth) {
        int r = rnd.nextInt(14);
        String a = operand(depth);
        switch (r) {
            case 0: return a + " = " + operand(depth);
            case 1: return a + " <> " + operand(depth);
            case 2: return a + " > " + operand(depth);
            case 3: return a + " >= " + operand(depth);
            case 4: return a + " < " + operand(depth);
            case 5: return a + " <= " + operand(depth);
            case 6: return a + " BETWEEN " + operand(depth) + " AND " + operand(depth);
            case 7: return a + " NOT BETWEEN " + operand(depth) + " AND " + operand(depth);
            case 8: return a + " IN ('5', 'abc', '3')";
            case 9: return a + " NOT IN ('10')";
            case 10: return a + " IS NULL";
            case 11: return a + " IS NOT NULL";
            case 12: return depth > 0 ? condition(depth - 1) + (rnd.nextBoolean() ? " AND " : " OR ") + condition(depth - 1) : a;
            default: return depth > 0 ? "NOT " + condition(depth - 1) : a;
        }
    }

    static String soup() {
        StringBuilder sb = new StringBuilder();
        int n = 1 + rnd.nextInt(7);
        for (int i = 0; i < n; i++) {
            if (i > 0 && rnd.nextInt(4) > 0) {
                sb.append(' ');
            }
            sb.append(SOUP[rnd.nextInt(SOUP.length)]);
        }
        return sb.toString();
    }

    static String json(String s) {
        StringBuilder sb = new StringBuilder("\"");
        for (char c : s.toCharArray()) {
            switch (c) {
                case '"': sb.append("\\\""); break;
                case '\\': sb.append("\\\\"); break;
                case '\n': sb.append("\\n"); break;
                case '\r': sb.append("\\r"); break;
                case '\t': sb.append("\\t"); break;
                default:
                    if (c < 0x20 || c > 0x7e) {
                        sb.append(String.format("\\u%04x", (int) c));
                    } else {
                        sb.append(c);
                    }
            }
        }
        return sb.append('"').toString();
    }

    public static void main(String[] args) throws Exception {
        LinkedHashSet<String> exprs = new LinkedHashSet<>();
        for (String h : HAND) {
            exprs.add(h);
        }
        for (int i = 0; i < 1500; i++) {
            exprs.add(condition(2));
        }
        for (int i = 0; i < 600; i++) {
            exprs.add(soup());
        }
        List<Map<String, String>> sets = new ArrayList<>();
        for (String[] kv : PROPERTY_SETS) {
            Map<String, String> m = new HashMap<>();
            for (int i = 0; i < kv.length; i += 2) {
                m.put(kv[i], kv[i + 1]);
            }
            sets.add(m);
        }
        try (Writer w = new OutputStreamWriter(new FileOutputStream(args[0]), StandardCharsets.UTF_8)) {
            w.write("{\n\"property_sets\": [");
            for (int i = 0; i < PROPERTY_SETS.length; i++) {
                w.write(i == 0 ? "\n  [" : ",\n  [");
                String[] kv = PROPERTY_SETS[i];
                for (int j = 0; j < kv.length; j++) {
                    w.write((j == 0 ? "" : ",") + json(kv[j]));
                }
                w.write("]");
            }
            w.write("\n],\n\"bloom\": [");
            String[] keys = {"group#topic", "SqlFilterGroup#SqlFilterTopic", "g#T", "%RETRY%g#t", "\u4e2d#x"};
            int[][] shapes = {{20, 32}, {20, 64}, {10, 16}};
            boolean first = true;
            for (int[] shape : shapes) {
                BloomFilter bf = BloomFilter.createByFn(shape[0], shape[1]);
                for (String k : keys) {
                    BloomFilterData d = bf.generate(k);
                    StringBuilder pos = new StringBuilder();
                    for (int p : d.getBitPos()) {
                        pos.append(pos.length() == 0 ? "" : ",").append(p);
                    }
                    w.write((first ? "\n  " : ",\n  ") + "{\"f\":" + shape[0] + ",\"n\":" + shape[1] + ",\"k\":" + bf.getK()
                        + ",\"m\":" + bf.getM() + ",\"key\":" + json(k) + ",\"bitPos\":[" + pos + "]}");
                    first = false;
                }
            }
            w.write("\n],\n\"cases\": [");
            first = true;
            for (String e : exprs) {
                Expression compiled = null;
                String error = null;
                try {
                    compiled = FilterFactory.INSTANCE.get("SQL92").compile(e);
                } catch (Exception ex) {
                    error = ex.getMessage();
                }
                StringBuilder sb = new StringBuilder();
                sb.append(first ? "\n  " : ",\n  ").append("{\"expr\":").append(json(e));
                if (compiled == null) {
                    sb.append(",\"error\":").append(error == null ? "null" : json(error));
                } else {
                    sb.append(",\"results\":[");
                    for (int i = 0; i < sets.size(); i++) {
                        final Map<String, String> props = sets.get(i);
                        String res;
                        try {
                            Object v = compiled.evaluate(new EvaluationContext() {
                                public Object get(String name) {
                                    return props.get(name);
                                }

                                public Map<String, Object> keyValues() {
                                    return null;
                                }
                            });
                            res = v == null ? "NULL" : v == Boolean.TRUE ? "TRUE" : v == Boolean.FALSE ? "FALSE" : "OTHER:" + v;
                        } catch (Throwable t) {
                            res = "ERROR";
                        }
                        sb.append(i == 0 ? "" : ",").append(json(res));
                    }
                    sb.append("]");
                }
                sb.append("}");
                w.write(sb.toString());
                first = false;
            }
            w.write("\n]\n}\n");
        }
    }
}
