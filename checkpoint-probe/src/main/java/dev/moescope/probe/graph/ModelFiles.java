package dev.moescope.probe.graph;

import ai.onnx.proto.OnnxMl.ModelProto;
import com.google.protobuf.CodedInputStream;
import com.google.protobuf.InvalidProtocolBufferException;
import dev.moescope.core.error.MoescopeException;

import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;

/**
 * Reads ONNX model files. Initializers stored as external data are left as references: the protobuf holds only their
 * location, so a model of any size parses, and an edited copy opened with
 * {@link dev.moescope.probe.run.OrtRunner#openEdited} still finds its weights beside the original.
 */
public final class ModelFiles {

    private ModelFiles() {
    }

    /** Parses {@code path}; a missing, unreadable or non-ONNX file is a one-line bad-input error naming it. */
    public static ModelProto load(Path path) {
        if (Files.isDirectory(path)) {
            throw MoescopeException.badInput(path, "is a directory, expected an .onnx model file");
        }
        ModelProto model;
        try (InputStream in = Files.newInputStream(path)) {
            CodedInputStream coded = CodedInputStream.newInstance(in);
            coded.setSizeLimit(Integer.MAX_VALUE); // protobuf's own ceiling; larger weights must be external data
            coded.setRecursionLimit(1000);          // nested If/Loop subgraphs
            model = ModelProto.parseFrom(coded);
        } catch (NoSuchFileException e) {
            throw MoescopeException.badInput(path, "no such model file");
        } catch (InvalidProtocolBufferException e) {
            throw MoescopeException.badInput(path, "not a valid ONNX model (protobuf: " + e.getMessage() + ")", e);
        } catch (IOException e) {
            throw MoescopeException.badInput(path, "cannot read model: " + e, e);
        }
        if (model.getIrVersion() <= 0 || !model.hasGraph() || model.getGraph().getNodeCount() == 0) {
            throw MoescopeException.badInput(path, "not a valid ONNX model (no IR version or an empty graph)");
        }
        return model;
    }
}
