// Bindings shared by the optimizer updates (adamw, sgd, lars): the parameter, its gradient
// and hyp, whose hyp[0] is the learning rate, written on the GPU each step so that a schedule
// never needs a read-back. Included after the optimizer's part (its own bindings from 4).
@group(0) @binding(1) var<storage, read_write> w: array<f32>;
@group(0) @binding(2) var<storage, read> g: array<f32>;
@group(0) @binding(3) var<storage, read> hyp: array<f32>;
