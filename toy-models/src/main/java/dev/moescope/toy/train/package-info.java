/**
 * The fused batched trainer. {@link dev.moescope.toy.train.ToyKernel} is one instance's forward pass, hand-written
 * backward pass and AdamW update over a batch held in cache; {@link dev.moescope.toy.train.BatchTrainer} runs it
 * for every instance of a sweep (all grid cells and seeds in one set of arrays), multi-threaded over instances,
 * generating each instance's synthetic data inside the loop. Because instances are independent, each one is trained
 * for all its steps before the next: its weights and optimizer state stay in L1/L2 for the whole run, and the
 * result of an instance depends only on its seed, not on the thread count.
 */
package dev.moescope.toy.train;
