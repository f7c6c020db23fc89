// Package bench measures aelab's training side by side with a peer: a reference
// implementation of the same models in another framework, run on the same machine at the same
// time. The peer today is PyTorch (pytorch_reference.py, embedded here), started with Debian's
// own /usr/bin/python3 and python3-torch.
//
// A Peer is a child process that trains one model on data aelab hands it (the same
// float32 inputs and targets aelab trains on) and is stepped one epoch at a time, so a caller
// can interleave aelab's epochs and the peer's: both then meet the same load, which on a small
// shared machine moves absolute numbers far more than any difference between them. The peer
// reports each epoch's losses, timings and memory as one JSON line; at the end it writes its
// reconstructions of the test inputs, which aelab scores with its own metrics.
//
// The package also reads what a speed table must name: the CPU model, the load average and a
// process's resident memory (Machine, LoadAverage, RSS).
package bench
