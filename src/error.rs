//! The library's error type: every way a network can be built or trained
//! wrongly, each variant carrying the layer or argument and the numbers
//! involved, so the message alone says what to fix.

use thiserror::Error;

/// Result alias of the library.
pub type Result<T, E = Error> = std::result::Result<T, E>;

/// Errors of building, feeding and training networks.
#[derive(Debug, Error, Clone, PartialEq)]
pub enum Error {
    // --- building a network ---
    /// A layer's declared input size differs from what the previous layer outputs.
    #[error("layer {index} ({kind}) expects input_dim {expected}, but the previous layer outputs {got}")]
    LayerMismatch {
        /// Position of the offending layer.
        index: usize,
        /// Layer kind.
        kind: &'static str,
        /// input_dim the layer declares.
        expected: usize,
        /// Output size of the previous layer.
        got: usize,
    },
    /// The first Dense layer needs its input size.
    #[error("layer {index} (Dense) is the first layer and needs input_dim (the number of input columns)")]
    MissingInputDim {
        /// Position of the layer.
        index: usize,
    },
    /// ConcatInput needs a previous layer to concatenate with.
    #[error("layer {index} (ConcatInput) cannot be the first layer: it puts the network input next to the previous layer's output")]
    ConcatFirst {
        /// Position of the layer.
        index: usize,
    },
    /// ConcatInput's Input size differs from the network input.
    #[error("layer {index} (ConcatInput) wraps Input({got}), but the network input has {expected} columns")]
    ConcatInputDim {
        /// Position of the layer.
        index: usize,
        /// Network input columns.
        expected: usize,
        /// Size of the wrapped Input.
        got: usize,
    },
    /// An Input layer anywhere but first.
    #[error("layer {index} (Input) can only be the first layer")]
    InputNotFirst {
        /// Position of the layer.
        index: usize,
    },
    /// A layer or input with zero size.
    #[error("layer {index} ({kind}) has {what} = 0; it must be at least 1")]
    ZeroSize {
        /// Position of the layer.
        index: usize,
        /// Layer kind.
        kind: &'static str,
        /// Which size (units, input_dim).
        what: &'static str,
    },
    /// The network has no Dense layer at the end to produce scores.
    #[error("the network's last layer must be Dense (it has {layers} layers and the last is {last})")]
    NoOutputLayer {
        /// Number of layers.
        layers: usize,
        /// Kind of the last layer ("none" if empty).
        last: &'static str,
    },
    /// A layer index past the end.
    #[error("layer index {index} is out of range: the network has {len} layers")]
    LayerIndex {
        /// Requested index.
        index: usize,
        /// Number of layers.
        len: usize,
    },
    /// A Dense-layer index past the end.
    #[error("Dense layer index {index} is out of range: the network has {len} Dense layers")]
    DenseIndex {
        /// Requested index.
        index: usize,
        /// Number of Dense layers.
        len: usize,
    },
    /// A member index past the end of an ensemble.
    #[error("member index {index} is out of range: the ensemble has {members} members")]
    MemberIndex {
        /// Requested index.
        index: usize,
        /// Ensemble size.
        members: usize,
    },

    // --- hyperparameters ---
    /// A hyperparameter outside its valid range.
    #[error("invalid {name}: {value} ({rule})")]
    InvalidHyperparameter {
        /// Name of the argument.
        name: &'static str,
        /// The value given.
        value: f64,
        /// What is required.
        rule: &'static str,
    },
    /// Members of one ensemble with optimizers that need different update code.
    #[error("one ensemble's members must share an update rule: {first} and {other} differ (only numbers such as lr, momentum, betas, rho and epsilon may differ between members)")]
    MixedOptimizers {
        /// The first member's optimizer.
        first: &'static str,
        /// A member whose optimizer differs.
        other: &'static str,
    },

    // --- data ---
    /// x and y disagree on the number of samples.
    #[error("{what}: x has {x_rows} rows but y has {y_rows}")]
    RowMismatch {
        /// Which data set.
        what: &'static str,
        /// Rows of x.
        x_rows: usize,
        /// Rows of y.
        y_rows: usize,
    },
    /// Data with the wrong number of columns.
    #[error("{what} has {got} columns, but the network expects {expected}")]
    ColumnMismatch {
        /// Which array.
        what: &'static str,
        /// Expected columns.
        expected: usize,
        /// Columns present.
        got: usize,
    },
    /// A NaN or infinite value in the data.
    #[error("{what} holds a non-finite value ({value}) at row {row}, column {col}")]
    NonFinite {
        /// Which array.
        what: &'static str,
        /// Row index.
        row: usize,
        /// Column index.
        col: usize,
        /// The value.
        value: f64,
    },
    /// No samples.
    #[error("{what} has no rows")]
    Empty {
        /// Which array.
        what: &'static str,
    },
    /// A class label that is not an integer in [0, classes).
    #[error("{what} row {row} holds label {value}, but labels must be integers in 0..{classes}")]
    BadLabel {
        /// Which array.
        what: &'static str,
        /// Row index.
        row: usize,
        /// The value.
        value: f64,
        /// Number of classes (network outputs).
        classes: usize,
    },
    /// Ensemble-level arguments of the wrong length.
    #[error("{what} has {got} entries, but the ensemble has {expected} members")]
    MemberCount {
        /// Which argument.
        what: &'static str,
        /// Ensemble size.
        expected: usize,
        /// Length given.
        got: usize,
    },

    // --- environment ---
    /// `NETSWEEP_CPU` names no level, or one this CPU cannot run.
    #[error("{message}")]
    Cpu {
        /// What is wrong and what to write instead.
        message: String,
    },
}
