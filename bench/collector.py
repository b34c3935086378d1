"""A stand-in for an OpenTelemetry collector: a real HTTP server on loopback that takes OTLP/HTTP posts.

The benchmarks point a service's exporter at it (``OTEL_EXPORTER_OTLP_ENDPOINT``) so that
tracing costs what it costs in production, encoding and posting included; the tests read
back what was exported.
"""

from __future__ import annotations

import http.server
import threading


class Collector:
    def __init__(self) -> None:
        received: list[tuple[str, str, bytes]] = []
        self.received = received

        class Handler(http.server.BaseHTTPRequestHandler):
            def do_POST(self) -> None:  # noqa: N802 (the standard library's name)
                body = self.rfile.read(int(self.headers["Content-Length"]))
                received.append((self.path, self.headers["Content-Type"], body))
                self.send_response(200)
                self.send_header("Content-Type", "application/x-protobuf")
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, format: str, *args: object) -> None:  # noqa: A002
                pass

        self.server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def span_names(self) -> set[str]:
        from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import ExportTraceServiceRequest

        names: set[str] = set()
        for _, _, body in self.received:
            request = ExportTraceServiceRequest.FromString(body)
            for resource in request.resource_spans:
                for scope in resource.scope_spans:
                    names.update(span.name for span in scope.spans)
        return names

    def spans(self) -> int:
        from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import ExportTraceServiceRequest

        return sum(
            len(scope.spans)
            for _, _, body in self.received
            for resource in ExportTraceServiceRequest.FromString(body).resource_spans
            for scope in resource.scope_spans
        )

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()
