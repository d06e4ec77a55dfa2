package io.inferencefleet.paddle.model.synthetic;

import io.inferencefleet.paddle.model.FloatTensor;
import io.inferencefleet.paddle.model.ModelFiles;
import io.inferencefleet.paddle.model.ParamsFile;
import io.inferencefleet.paddle.model.proto.FrameworkProto.ProgramDesc;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/** A program and its parameter values, as produced by {@link ProgramBuilder#build()}. */
public record BuiltModel(ProgramDesc program, List<FloatTensor> parameters) {

    public BuiltModel {
        parameters = List.copyOf(parameters);
    }

    /** Parameter values by name, in the form the reference interpreter takes. */
    public Map<String, float[]> parameterValues() {
        Map<String, float[]> values = new LinkedHashMap<>();
        parameters.forEach(p -> values.put(p.name(), p.data()));
        return values;
    }

    /** Writes {@code <stem>.pdmodel} and {@code <stem>.pdiparams} into {@code dir} (created if needed). */
    public ModelFiles writeTo(Path dir, String stem) throws IOException {
        Files.createDirectories(dir);
        ModelFiles files = new ModelFiles(dir.resolve(stem + ".pdmodel"), dir.resolve(stem + ".pdiparams"));
        Files.write(files.modelFile(), program.toByteArray());
        ParamsFile.write(files.paramsFile(), parameters);
        return files;
    }
}
