package aelib

import (
	"path"

	"github.com/gomlx/compute/dtypes"
	. "github.com/gomlx/gomlx/core/graph"
	"github.com/gomlx/gomlx/ml/model"
	"github.com/gomlx/gomlx/ml/model/initializer"
	"github.com/gomlx/gomlx/ml/train/optimizer"
)

// Adam's constants: Keras' defaults (Config.LearningRate is the fourth).
const adamBeta1, adamBeta2, adamEpsilon = 0.9, 0.999, 1e-7

// adamStep is one Adam update of weights by grads on plain nodes: adamT is the step count
// before this update, lr the learning rate; it returns the new step count, weights and moments.
// It is GoMLX's optimizer.Adam op for op, and its state lives in the store variables
// optimizer.Adam uses (adamMoments), so a checkpoint holds it and GoMLX's own trainer continues
// a run where aelib's engine left it (TestTrainContinuesWithGoMLXTrainer).
func adamStep(adamT, lr *Node, weights, m1, m2, grads []*Node) (nextT *Node, nextW, nextM1, nextM2 []*Node) {
	g := adamT.Graph()
	nextT = AddScalar(adamT, 1)
	beta1, beta2 := Scalar(g, dtypes.Float32, adamBeta1), Scalar(g, dtypes.Float32, adamBeta2)
	debias1 := Reciprocal(OneMinus(Pow(beta1, nextT)))
	debias2 := Reciprocal(OneMinus(Pow(beta2, nextT)))
	epsilon := Scalar(g, dtypes.Float32, adamEpsilon)
	for i, grad := range grads {
		mo1 := Add(Mul(beta1, m1[i]), Mul(OneMinus(beta1), grad))
		mo2 := Add(Mul(beta2, m2[i]), Mul(OneMinus(beta2), Square(grad)))
		direction := Div(Mul(lr, Mul(mo1, debias1)), Add(Sqrt(Mul(mo2, debias2)), epsilon))
		nextW, nextM1, nextM2 = append(nextW, Sub(weights[i], direction)), append(nextM1, mo1), append(nextM2, mo2)
	}
	return nextT, nextW, nextM1, nextM2
}

// adamMoments returns the variables where GoMLX's optimizer.Adam keeps the first and second
// moments of the trainable variable v, creating them (zero) if it has not trained yet.
func adamMoments(store *model.Store, v *model.Variable) (m1, m2 *model.Variable) {
	scope := store.Scope(path.Join("/", optimizer.AdamDefaultScope, v.Scope())).WithInitializer(initializer.Zero)
	m1 = scope.VariableWithShape(v.Name()+"_1st_moment", v.Shape()).SetTrainable(false)
	m2 = scope.VariableWithShape(v.Name()+"_2nd_moment", v.Shape()).SetTrainable(false)
	return m1, m2
}
