package dev.moescope.probe.capture;

/** Receives captured batches in corpus order (the store writer and the routing analyses are sinks). */
public interface CaptureSink {
    void accept(CapturedBatch batch);
}
