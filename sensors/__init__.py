"""IoT-tracked collateral: device registry, telemetry intake (MQTT and HTTP batches), durable
raw storage, derived collateral state, anomaly detection, alerts and valuations.

`docs/sensors.md` describes the topic scheme, the payload, the store and the rules.
"""
