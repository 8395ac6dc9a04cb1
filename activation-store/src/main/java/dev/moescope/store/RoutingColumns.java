package dev.moescope.store;

/**
 * Routing of one layer over a row range.
 *
 * @param layer       MoE layer
 * @param topK        experts per token
 * @param firstRow    global index of the first row
 * @param expertIds   row-major {@code [rows, topK]} expert ids, best first
 * @param gateWeights row-major {@code [rows, topK]} gate weights
 */
public record RoutingColumns(int layer, int topK, long firstRow, int[] expertIds, float[] gateWeights) {

    public int size() {
        return expertIds.length / topK;
    }
}
