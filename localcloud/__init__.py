"""The whole stack on an embedded AWS emulator (moto): deploy, drive traffic, prove nothing is lost.

`deploy` runs the real program with a moto-backed Pulumi mock, `poller` plays the Lambda service,
`bridges` fill moto's known gaps (each one named in the reports), `ops` holds the DLQ and replay
operations that work against AWS and the emulator alike.
"""
