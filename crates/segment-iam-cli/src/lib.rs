//! The segment-iam command-line tool.
