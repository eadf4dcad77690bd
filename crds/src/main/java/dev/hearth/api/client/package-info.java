/**
 * How the operator and the agent write to the API server, in one place for both: status by
 * server-side apply under each component's named field manager ({@link StatusApply}), and core/v1
 * Events ({@link EventRecorder}).
 */
package dev.hearth.api.client;
