package io.inferencefleet.worker.config;

import java.util.Locale;
import java.util.regex.Pattern;

/**
 * Which settings may carry a secret, so that logs and status output never show their values: any
 * key naming a password, secret, token, credential or private key ({@code ssl.keystore.key} holds a
 * PEM private key), and JAAS configuration (which embeds passwords). Errs on the side of masking.
 */
public final class Secrets {
    /** Shown instead of a secret value. */
    public static final String MASK = "[hidden]";

    private static final Pattern SECRET_KEY = Pattern.compile(
            "(^|[._-])(password|passwd|secret|token|credentials?|jaas|key)([._-]|$)|password|secret|token|credential");

    private Secrets() {}

    /** Whether the value of {@code key} may be a secret. */
    public static boolean isSecret(String key) {
        return SECRET_KEY.matcher(key.toLowerCase(Locale.ROOT)).find();
    }

    /** {@code value}, or {@link #MASK} when {@code key} may carry a secret. */
    public static String mask(String key, String value) {
        return isSecret(key) ? MASK : value;
    }
}
