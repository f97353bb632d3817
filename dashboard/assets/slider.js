/* gridtwin: the playback slider's tooltip, the hour a step stands for (days and weeks start at 00:00). */
window.dccFunctions = window.dccFunctions || {};
window.dccFunctions.gtHour = function (step) {
    const hour = String(step % 24).padStart(2, "0") + ":00";
    return step >= 24 ? "D" + (Math.floor(step / 24) + 1) + " " + hour : hour;
};
