package io.inferencefleet.messages;

import java.util.Locale;
import java.util.Optional;

/**
 * The stable codes of ERROR and EXPIRED results ({@code error.code} on the results topic, the
 * {@code code} label of {@code fleet_requests_total}, the {@code fleet.error.code} header of
 * dead-letter copies). The wire form is {@link #code()}; a released code never changes or
 * disappears, because users branch on it. The README's table lists every code (a test checks it).
 */
public enum ErrorCode {
    /** The record is not a valid request (not JSON, a missing or bad field, an id over its limit, ...). */
    BAD_REQUEST("bad_request", "the record is not a valid request: not JSON, a missing or wrong field, an id over 256 UTF-8 bytes"),
    /** The URI is malformed, of a scheme, file root or host that is not allowed, or redirects to one. */
    FORBIDDEN_URI("forbidden_uri", "the URI is malformed or names a scheme, file outside the roots or host not allowed"),
    /** No such file under a root, or HTTP 404/410. */
    NOT_FOUND("not_found", "no such file under a file root, or HTTP 404/410"),
    /** The encoded image has more bytes than {@code fetch.max.image.bytes}. */
    TOO_LARGE("too_large", "the encoded image is larger than fetch.max.image.bytes"),
    /** The fetch took longer than {@code fetch.timeout.ms}. */
    FETCH_TIMEOUT("fetch_timeout", "fetching took longer than fetch.timeout.ms"),
    /** An I/O error, an HTTP status other than 2xx/404/410, or too many redirects. */
    FETCH_FAILED("fetch_failed", "an I/O error, an HTTP error status, or too many redirects"),
    /** Zero bytes of image. */
    EMPTY_IMAGE("empty_image", "the image has no bytes"),
    /** Not an image format the worker decodes, or a pixel depth it does not handle. */
    UNSUPPORTED_IMAGE_FORMAT("unsupported_image_format", "not a JPEG, PNG, BMP, TIFF or WebP image, or an unsupported pixel depth"),
    /** A known format whose bytes do not decode. */
    UNDECODABLE_IMAGE("undecodable_image", "a known format whose bytes do not decode"),
    /** The file ends before the image does. */
    TRUNCATED_IMAGE("truncated_image", "the file ends before the image does"),
    /** More pixels, or a more extreme aspect ratio, than the worker's limits; refused from the header. */
    IMAGE_TOO_LARGE("image_too_large", "more pixels or a more extreme aspect ratio than the limits, refused from the header"),
    /** Paddle refused the input or failed while running the model. */
    MODEL_ERROR("model_error", "Paddle refused the input or failed while running the model"),
    /** The result (with the request's attributes echoed) is larger than the producer or broker accepts. */
    RESULT_TOO_LARGE("result_too_large", "the result with the echoed attributes is larger than Kafka accepts; sent without them"),
    /** A failure inside the worker itself (a bug or a resource problem), not caused by the input. */
    INTERNAL_ERROR("internal_error", "a failure inside the worker itself, not caused by the input"),
    /** The request's {@code deadlineMs} passed before inference (status EXPIRED). */
    DEADLINE_EXCEEDED("deadline_exceeded", "the request's deadlineMs passed before inference (status EXPIRED)");

    private final String code;
    private final String meaning;

    ErrorCode(String code, String meaning) {
        this.code = code;
        this.meaning = meaning;
    }

    /** The wire form, e.g. {@code truncated_image}. */
    public String code() {
        return code;
    }

    /** One line for people: when the code is given. */
    public String meaning() {
        return meaning;
    }

    /** The code with this wire form, if it is one of ours. */
    public static Optional<ErrorCode> fromCode(String code) {
        if (code == null) {
            return Optional.empty();
        }
        try {
            return Optional.of(valueOf(code.toUpperCase(Locale.ROOT)));
        } catch (IllegalArgumentException e) {
            return Optional.empty();
        }
    }

    /** The code with this wire form; throws naming it if it is not one of ours (a bug). */
    public static ErrorCode of(String code) {
        return fromCode(code).orElseThrow(() -> new IllegalArgumentException("Invalid value " + code
                + " for error code: not one of " + java.util.Arrays.toString(values())));
    }

    @Override
    public String toString() {
        return code;
    }
}
