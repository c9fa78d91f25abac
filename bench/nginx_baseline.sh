# Sourced by the load scripts: start_nginx_baseline WORK PORT starts nginx
# answering a fixed FHIR OperationOutcome over TLS (the server certificate
# in WORK/certs) on 127.0.0.1:PORT, in the foreground of a background job,
# and appends its pid to the caller's `pids` array. Returns 1 when nginx is
# not installed (the caller prints that there is no baseline).
start_nginx_baseline() {
  local work="$1" port="$2"
  command -v nginx >/dev/null || return 1
  mkdir -p "$work/nginx"
  cat > "$work/nginx/nginx.conf" <<NGINX
worker_processes 2;
pid $work/nginx/nginx.pid;
error_log $work/nginx/error.log warn;
events { worker_connections 4096; }
http {
  access_log off;
  client_body_temp_path $work/nginx/body;
  proxy_temp_path $work/nginx/proxy;
  fastcgi_temp_path $work/nginx/fastcgi;
  uwsgi_temp_path $work/nginx/uwsgi;
  scgi_temp_path $work/nginx/scgi;
  client_body_buffer_size 64k;
  client_max_body_size 16m;
  keepalive_requests 1000000;
  server {
    listen 127.0.0.1:$port ssl;
    ssl_certificate $work/certs/server.crt;
    ssl_certificate_key $work/certs/server.key;
    ssl_protocols TLSv1.2 TLSv1.3;
    location / {
      default_type application/fhir+json;
      return 200 '{"resourceType":"OperationOutcome","issue":[{"severity":"information","code":"informational"}]}';
    }
  }
}
NGINX
  nginx -p "$work/nginx" -c "$work/nginx/nginx.conf" -e "$work/nginx/error.log" -g 'daemon off;' &
  pids+=($!)
}
