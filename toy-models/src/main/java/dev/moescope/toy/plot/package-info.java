/**
 * PNG figures: Java2D for the figure types XChart lacks (bars coloured per value, heatmaps, phase diagrams with
 * a 2-D colour legend, router-region maps, 2-D feature vectors) and XChart for line charts on log axes.
 */
package dev.moescope.toy.plot;
