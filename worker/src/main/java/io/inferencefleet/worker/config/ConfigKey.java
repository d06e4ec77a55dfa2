package io.inferencefleet.worker.config;

import java.util.function.Function;
import java.util.function.Predicate;

/**
 * One configuration key, defined once: name, type (by its parser), default, validation and doc.
 * The same definition serves the properties file, the environment ({@code FLEET_} + upper-case
 * name with dots as underscores) and {@code --name=value} flags.
 */
public final class ConfigKey<T> {
    private final String name;
    private final Function<String, T> parser;
    private final String defaultValue;
    private final Predicate<T> valid;
    private final String rule;
    private final String doc;

    private ConfigKey(String name, Function<String, T> parser, String defaultValue, Predicate<T> valid,
                      String rule, String doc) {
        this.name = name;
        this.parser = parser;
        this.defaultValue = defaultValue;
        this.valid = valid;
        this.rule = rule;
        this.doc = doc;
    }

    public static ConfigKey<String> string(String name, String defaultValue, String doc) {
        return new ConfigKey<>(name, s -> s, defaultValue, s -> !s.isBlank(), "must not be empty", doc);
    }

    public static ConfigKey<Integer> integer(String name, int defaultValue, int min, int max, String doc) {
        return new ConfigKey<>(name, Integer::parseInt, Integer.toString(defaultValue),
                v -> v >= min && v <= max, "must be an integer in [" + min + ", " + max + "]", doc);
    }

    /** Value {@link #AUTO} of an {@link #integerOrAuto} key: the worker derives it at start-up. */
    public static final int AUTO = 0;

    /** An integer in [min, max] or {@code auto} (parsed as {@link #AUTO}), which is the default. */
    public static ConfigKey<Integer> integerOrAuto(String name, int min, int max, String doc) {
        if (min <= AUTO) {
            throw new IllegalArgumentException("min must be above " + AUTO);
        }
        return new ConfigKey<>(name, s -> s.equals("auto") ? AUTO : Integer.parseInt(s), "auto",
                v -> v == AUTO || (v >= min && v <= max), "must be auto or an integer in [" + min + ", " + max + "]", doc);
    }

    /** One of a fixed set of words. */
    public static ConfigKey<String> choice(String name, String defaultValue, java.util.List<String> choices, String doc) {
        return new ConfigKey<>(name, s -> s, defaultValue, choices::contains, "must be one of " + String.join(", ", choices),
                doc);
    }

    public static ConfigKey<Long> longInteger(String name, long defaultValue, long min, long max, String doc) {
        return new ConfigKey<>(name, Long::parseLong, Long.toString(defaultValue),
                v -> v >= min && v <= max, "must be an integer in [" + min + ", " + max + "]", doc);
    }

    public static ConfigKey<Double> decimal(String name, double defaultValue, double min, double max, String doc) {
        return new ConfigKey<>(name, Double::parseDouble, stripZero(defaultValue),
                v -> v >= min && v <= max, "must be a number in [" + stripZero(min) + ", " + stripZero(max) + "]", doc);
    }

    private static String stripZero(double v) {
        return v == Math.rint(v) && Math.abs(v) < 1e15 ? Long.toString((long) v) : Double.toString(v);
    }

    public static ConfigKey<Boolean> bool(String name, boolean defaultValue, String doc) {
        return new ConfigKey<>(name, s -> {
            if (!s.equals("true") && !s.equals("false")) {
                throw new IllegalArgumentException("not true or false");
            }
            return Boolean.parseBoolean(s);
        }, Boolean.toString(defaultValue), v -> true, "must be true or false", doc);
    }

    /** A key whose default is computed at start-up (e.g. from the host); {@code null} default means "derived". */
    public static ConfigKey<String> optional(String name, String doc) {
        return new ConfigKey<>(name, s -> s, "", s -> true, "", doc);
    }

    public String name() {
        return name;
    }

    public String defaultValue() {
        return defaultValue;
    }

    public String doc() {
        return doc;
    }

    public String envName() {
        return "FLEET_" + name.toUpperCase(java.util.Locale.ROOT).replace('.', '_').replace('-', '_');
    }

    /** Parses and validates; the message names the key, the value and the rule. */
    public T parse(String raw, String origin) {
        T value;
        try {
            value = parser.apply(raw.trim());
        } catch (RuntimeException e) {
            throw invalid(raw, origin);
        }
        if (!valid.test(value)) {
            throw invalid(raw, origin);
        }
        return value;
    }

    private IllegalArgumentException invalid(String raw, String origin) {
        return new IllegalArgumentException("Invalid value '" + raw + "' for " + name + " (from " + origin + "): " + rule);
    }
}
