package io.inferencefleet.worker;

import java.nio.file.Path;
import java.util.HashMap;
import java.util.Map;

/** The worker settings every broker test needs; tests add or override the rest. */
final class WorkerFlags {
    private WorkerFlags() {}

    static Map<String, String> of(String bootstrapServers, String inputTopic, String resultsTopic, String groupId,
                                  Path modelDir, Path imagesRoot) {
        Map<String, String> flags = new HashMap<>();
        flags.put("bootstrap.servers", bootstrapServers);
        flags.put("input.topic", inputTopic);
        flags.put("results.topic", resultsTopic);
        flags.put("group.id", groupId);
        flags.put("model.dir", modelDir.toString());
        flags.put("fetch.file.roots", imagesRoot.toString());
        return flags;
    }
}
