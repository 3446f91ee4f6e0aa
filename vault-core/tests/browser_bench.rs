//! placeholder, written below
