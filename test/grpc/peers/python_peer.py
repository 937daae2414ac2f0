"""A gRPC client peer on Python's grpcio, for the asioctx gRPC tests.

    python_peer.py STUBS call ADDR TIMEOUT_MS SLEEP_MS TAG CANCEL_AFTER_MS ID TRACEPARENT FORWARD_TO
    python_peer.py STUBS repeat ADDR N TIMEOUT_MS SLEEP_MS TAG

STUBS is the folder with peer_pb2.py and peer_pb2_grpc.py. Prints one line of key=value
per call, as go_peer does. A timeout or cancel of 0 means none; "-" means empty.
"""
import sys
import time

sys.path.insert(0, sys.argv[1])
import grpc  # noqa: E402
import peer_pb2  # noqa: E402
import peer_pb2_grpc  # noqa: E402


def arg(i):
    return "" if len(sys.argv) <= i or sys.argv[i] == "-" else sys.argv[i]


def call(stub, timeout_ms, sleep_ms, tag, cancel_after_ms, request_id, traceparent, forward_to):
    metadata = []
    if request_id:
        metadata.append(("x-request-id", request_id))
    if traceparent:
        metadata.append(("traceparent", traceparent))
    request = peer_pb2.SleepRequest(sleep_ms=sleep_ms, tag=tag, forward_to=forward_to)
    start = time.monotonic()
    future = stub.Sleep.future(request, timeout=timeout_ms / 1000 if timeout_ms > 0 else None, metadata=metadata)
    if cancel_after_ms > 0:
        try:
            future.result(timeout=cancel_after_ms / 1000)
        except grpc.FutureTimeoutError:
            future.cancel()
        except grpc.RpcError:
            pass
    reply = peer_pb2.SleepReply()
    echoed = ""
    try:
        reply = future.result()
        code = "OK"
    except grpc.FutureCancelledError:
        code = "Canceled"
    except grpc.RpcError as e:
        code = {"DEADLINE_EXCEEDED": "DeadlineExceeded", "CANCELLED": "Canceled"}.get(e.code().name, e.code().name)
    try:
        echoed = dict(future.initial_metadata() or ()).get("x-request-id", "")
    except Exception:
        echoed = ""
    elapsed = int((time.monotonic() - start) * 1000)
    print(f"tag={tag} code={code} elapsed_ms={elapsed} remaining_us={reply.remaining_us} "
          f"request_id={reply.request_id} traceparent={reply.traceparent} echoed_id={echoed}", flush=True)


def main():
    mode = sys.argv[2]
    channel = grpc.insecure_channel(arg(3))
    stub = peer_pb2_grpc.PeerStub(channel)
    if mode == "call":
        call(stub, int(arg(4)), int(arg(5)), arg(6), int(arg(7)), arg(8), arg(9), arg(10))
    elif mode == "repeat":
        for i in range(int(arg(4))):
            call(stub, int(arg(5)), int(arg(6)), f"{arg(7)}-{i}", 0, "", "", "")
    else:
        sys.exit(f"python_peer: unknown mode {mode}")


if __name__ == "__main__":
    main()
