package aelib

import (
	. "github.com/gomlx/gomlx/core/graph"
	"github.com/gomlx/gomlx/ml/train"
)

// This file plugs the models beyond the course into Train. The trainer's model function returns
// the logits first and, for a regularised model, the nodes its penalty needs; the loss function
// is maskedBCE on the logits plus the penalty, added with train.AddRegularizationLoss and masked with the
// batch's weights label like the BCE, so the padding rows of the last batch count for nothing.
// The per-epoch train_loss is therefore BCE + penalty; val_bce stays the reconstruction BCE.

// trainingOutputs builds the training forward pass of flat images x [B,784]: logits, then what
// the model's penalty needs (sparse: the codes; contractive: ‖J‖²_F per example; vae: μ, log σ²).
func (ae *Autoencoder) trainingOutputs(x *Node) []*Node {
	switch ae.Config.Model {
	case ModelSparse:
		codes := ae.Arch.Encode(ae.scope(), x)
		return []*Node{ae.Arch.DecodeLogits(ae.scope(), codes), codes}
	case ModelContractive:
		codes, jac := ae.Arch.encodeWithJacobian(ae.scope(), x)
		return []*Node{ae.Arch.DecodeLogits(ae.scope(), codes), jac}
	case ModelVAE:
		logits, mean, logVar := ae.Arch.sampledLogits(ae.scope(), x)
		return []*Node{logits, mean, logVar}
	}
	return []*Node{ae.Arch.Logits(ae.scope(), x)}
}

// trainingLoss is maskedBCE, plus the model's penalty (a train.AddRegularizationLoss term) when it has one.
func (ae *Autoencoder) trainingLoss(labels, predictions []*Node) *Node {
	if p := ae.penalty(labels[1], predictions[1:]); p != nil {
		train.AddRegularizationLoss(p)
	}
	return maskedBCE(labels, predictions[:1])
}

// penalty builds the model's scalar penalty from the extra training outputs, over the examples
// of weight 1; nil for the course's models.
func (ae *Autoencoder) penalty(weights *Node, extra []*Node) *Node {
	c := ae.Config
	switch c.Model {
	case ModelSparse:
		return c.sparsityPenalty(extra[0], weights)
	case ModelContractive:
		return MulScalar(maskedMean(extra[0], weights), c.Lambda)
	case ModelVAE:
		return MulScalar(maskedMean(GaussianKL(extra[0], extra[1]), weights), c.Beta/784)
	}
	return nil
}
