//! The mvcam GenTL producer (being written).
