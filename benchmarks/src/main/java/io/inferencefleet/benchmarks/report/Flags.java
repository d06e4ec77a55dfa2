package io.inferencefleet.benchmarks.report;

import io.inferencefleet.worker.config.KeyValueArgs;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * {@code --name=value} arguments of the benchmark programs, parsed by the project's one parser
 * ({@link KeyValueArgs}); unknown or missing names are errors that name them.
 */
public final class Flags {
    private final Map<String, String> values;

    private Flags(Map<String, String> values) {
        this.values = values;
    }

    /**
     * @param required names that must be given
     * @param optional names that may be given, with their defaults
     */
    public static Flags parse(String[] args, List<String> required, Map<String, String> optional) {
        Map<String, String> values = new LinkedHashMap<>(optional);
        KeyValueArgs.parse(List.of(args)).forEach((name, value) -> {
            if (!required.contains(name) && !optional.containsKey(name)) {
                throw new IllegalArgumentException("Unknown flag --" + name + "; known: " + String.join(", ", required) + ", "
                        + String.join(", ", optional.keySet()));
            }
            values.put(name, value.trim());
        });
        for (String name : required) {
            if (values.get(name) == null || values.get(name).isBlank()) {
                throw new IllegalArgumentException("Missing flag --" + name + "=...");
            }
        }
        return new Flags(values);
    }

    public static Flags parse(String[] args, List<String> required) {
        return parse(args, required, Map.of());
    }

    public String get(String name) {
        return values.get(name);
    }

    public Path path(String name) {
        return Path.of(get(name));
    }

    public int positiveInt(String name) {
        try {
            int value = Integer.parseInt(get(name));
            if (value > 0) {
                return value;
            }
        } catch (NumberFormatException e) {
            // reported below
        }
        throw new IllegalArgumentException("Invalid value '" + get(name) + "' for --" + name + ": must be a positive integer");
    }

    @Override
    public String toString() {
        return values.toString();
    }
}
