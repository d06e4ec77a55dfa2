package io.inferencefleet.worker.config;

import java.io.IOException;
import java.io.Reader;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.TreeSet;

/**
 * The project's one parser of {@code --key=value} arguments ({@code fleet worker}, {@code fleet up},
 * the benchmark programs). Keeps the order given; a key given twice, or an argument that is not
 * {@code --key=value}, is an error naming it. {@code --args-file=FILE} reads more {@code key=value}
 * pairs from a properties file at the same precedence as the command line, so that settings which
 * may carry secrets need not appear in {@code ps} output ({@code fleet up} passes them that way).
 *
 * <pre>{@code
 * Map<String, String> flags = KeyValueArgs.parse(List.of("--group.id=g", "--kafka.acks=all"));
 * }</pre>
 */
public final class KeyValueArgs {
    /** The argument naming a file of more arguments. */
    public static final String ARGS_FILE = "args-file";

    private KeyValueArgs() {}

    /** @throws IllegalArgumentException naming the bad argument */
    public static Map<String, String> parse(List<String> args) {
        Map<String, String> flags = new LinkedHashMap<>();
        for (String arg : args) {
            int eq = arg.indexOf('=');
            if (!arg.startsWith("--") || eq < 3) {
                throw new IllegalArgumentException("Invalid argument '" + arg + "': expected --key=value");
            }
            String key = arg.substring(2, eq);
            String value = arg.substring(eq + 1);
            if (key.equals(ARGS_FILE)) {
                readFile(Path.of(value)).forEach((k, v) -> put(flags, k, v, "--" + ARGS_FILE + "=" + value));
            } else {
                put(flags, key, value, "the command line");
            }
        }
        return flags;
    }

    private static void put(Map<String, String> flags, String key, String value, String origin) {
        if (flags.putIfAbsent(key, value) != null) {
            throw new IllegalArgumentException("Invalid argument --" + key + ": given twice (again in " + origin + ")");
        }
    }

    private static Map<String, String> readFile(Path file) {
        Properties properties = new Properties();
        try (Reader reader = Files.newBufferedReader(file)) {
            properties.load(reader);
        } catch (IOException e) {
            throw new IllegalArgumentException("Invalid value " + file + " for --" + ARGS_FILE + ": " + e.getMessage(), e);
        }
        Map<String, String> result = new LinkedHashMap<>();
        for (String name : new TreeSet<>(properties.stringPropertyNames())) {
            result.put(name, properties.getProperty(name));
        }
        return result;
    }
}
