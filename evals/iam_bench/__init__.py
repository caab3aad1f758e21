"""IAM benchmark data: a catalog of real AWS actions, ARNs and condition keys, the differential-case
generator, the bridge to the independent simulator, and the faulty-policy benchmark generator."""
