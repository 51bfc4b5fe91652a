// Package flinksim simulates Flink on member clusters for tests and the
// sandbox: Flink's JVM cannot run here, so the Simulator plays kubelet (and
// the Deployment, endpoints and garbage collection controllers that test
// control planes lack) and one simulated JobManager per Flink cluster
// (package jobmanager, serving Flink's REST API from handlers generated from
// Flink's OpenAPI spec). It is test infrastructure, never linked into the
// operator.
//
// # What it reads
//
// Per member cluster, with admin credentials, in every namespace:
//
//   - Deployments labelled component=jobmanager or component=taskmanager;
//     a Flink cluster is the set of objects with the same namespace and
//     app=<name> label. The JobManager Deployment is <name> (component=
//     jobmanager); type=flink-native-kubernetes makes the cluster native,
//     anything else (flink-standalone-kubernetes) standalone.
//   - The JobManager container (flink-main-container, else the first one):
//     its image tag gives the Flink version ("flink:1.17" is 1.17, default
//     1.19.1); its command and args decide the mode: "standalone-job
//     [--job-classname C] [--job-id J] [--fromSavepoint P]
//     [--allowNonRestoredState] [--jars J] <args>" and
//     "kubernetes-jobmanager.sh kubernetes-application" are
//     application clusters, "jobmanager" and "kubernetes-session" session
//     clusters.
//   - ConfigMap flink-config-<name>, key config.yaml (else
//     flink-conf.yaml), flat or nested YAML. Keys read:
//     kubernetes.cluster-id (default <name>), parallelism.default,
//     taskmanager.numberOfTaskSlots, scheduler-mode (reactive),
//     execution.savepoint.path, execution.savepoint.ignore-unclaimed-state,
//     $internal.application.main, $internal.application.program-args,
//     $internal.pipeline.job-id, high-availability.type (or
//     high-availability), state.savepoints.dir, state.checkpoints.dir,
//     execution.checkpointing.interval, rest.port (default 8081),
//     flinksim.startup-failure (a fault: the JobManager never starts) and
//     flinksim.job.finish-after (a bounded job: FINISHED that long, a Go
//     duration, after it starts running).
//     pipeline.jars is accepted and not needed. With high availability
//     (kubernetes, zookeeper) and no high-availability.storageDir the
//     JobManager exits at start, as Flink's entrypoint does: its pod
//     crash-loops, the end of its log its termination message where the
//     container asks for it (FallbackToLogsOnError).
//   - Services whose selector has app=<name>: the simulator writes their
//     Endpoints (read by the apiserver's service proxy) and an
//     EndpointSlice <service>-flinksim.
//
// # What it writes
//
//   - Pods for every Deployment replica, named <deployment>-<template
//     hash>-<index>, owned by the Deployment, Running on node "flinksim"
//     with an IP from Options.Network and Ready (a JobManager pod once its
//     JobManager serves); pods of old templates, extra replicas and deleted
//     Deployments are deleted; a pod whose secret or configMap volume
//     (not optional) names an object that does not exist stays Pending
//     in ContainerCreating (PodReadyToStartContainers false, no IP), with
//     a core/v1 Warning event FailedMount about it from the kubelet
//     ("MountVolume.SetUp failed for volume ...") counted up at each
//     attempt (backoff from 500 ms, capped at 4 s where a kubelet waits up
//     to 2m2s), and starts once the object exists; Deployment status (replicas, ready,
//     available, conditions) as the Deployment controller writes it; a
//     Deployment deleted in the foreground loses its foregroundDeletion
//     finalizer once its pods and the Services, ConfigMaps (both by its
//     app label) and Ingresses it owns are gone, deleted by the simulator,
//     as the garbage collector does: what Flink's native client and the
//     Apache operator make is owned by the JobManager Deployment.
//   - Native clusters: TaskManager pods <cluster-id>-taskmanager-1-<n>
//     (labels app=<name>, component=taskmanager,
//     type=flink-native-kubernetes, owned by the JobManager Deployment), as
//     many as the JobManager's jobs need slots, as Flink's
//     KubernetesResourceManager creates them.
//   - With HA: ConfigMaps <cluster-id>-cluster-config-map (leader address;
//     a session cluster's jobs as jobGraph-<job id> = the job's JSON) and
//     <cluster-id>-<job id>-config-map (labels app=<cluster-id>,
//     configmap-type=high-availability) holding the latest checkpoint as
//     checkpointID-<19 digits> = {"id":N,"path":"..."} and a counter. A
//     JobManager that starts with such a checkpoint restores from it (over
//     any savepoint path), as Flink does, and a session JobManager
//     resubmits its stored jobs; a job that reaches a globally terminal
//     state (FINISHED, CANCELED, FAILED) has its HA metadata removed, so
//     the next deployment restores from its savepoint. Under HA an
//     application's job id is fixed: $internal.pipeline.job-id, else
//     derived from the cluster id as Flink does.
//
// # Storage and versions
//
// Checkpoints and savepoints are written to Options.Storage, one for the
// whole simulator (a bucket's stand-in); a disposal deletes. A job told to
// restore from a path the storage does not hold fails as Flink's does: an
// application's job goes FAILED (JobInitializationException caused by
// FileNotFoundException), a session's jar run answers Flink's 400 with
// those causes and leaves the job FAILED. A JobManager whose image tag
// says a Flink before 1.17 answers 404 to checkpoint triggers, which
// Flink added in 1.17.
//
// # Faults
//
// JobManager.SetFaults injects REST latency, errors, hangs, hostile answers
// (a redirect elsewhere, a 100 MiB body, an endless body, invalid JSON, a
// 30 s stall; see jobmanager.Hostile) and failing savepoints or checkpoints
// into one running JobManager; FailJob fails a job. Simulator.SetFaults injects them into a Flink cluster so that they
// outlive JobManager restarts, and can make its JobManager crash-loop.
// Simulator.Crash kills a JobManager (its pods go, new ones start).
// Simulator.Savepoints lists every savepoint a cluster completed across
// JobManager restarts.
//
// # Serving JobManagers
//
// Handler serves every JobManager under /<cluster>/<namespace>/<name>/ for
// the url transport. A PodNetwork that can listen on pod IPs (package
// netns: a network namespace, as root) also serves each JobManager on its
// pod IP and rest.port, for the apiserver's service proxy and so the
// default proxy transport.
package flinksim
