/**
 * What a toy model is: its shape ({@link dev.moescope.toy.model.Architecture}), how it is trained
 * ({@link dev.moescope.toy.model.TrainingConfig}), the data and initialisation of each instance
 * ({@link dev.moescope.toy.model.InstanceSpec}) and the weights of many instances stored together
 * ({@link dev.moescope.toy.model.ToyWeights}).
 */
package dev.moescope.toy.model;
